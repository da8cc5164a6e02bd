// createApp(deps): the REST service's Express app without listen, so tests and benchmarks can drive it.
import express, { type Request } from 'express';
import type { ProjectPools } from '@basalt/db';
import { BasaltError } from '@basalt/errors';
import { createServiceApp, errorShapes, type Logger } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { restContext } from './context.js';
import { restErrors } from './errors.js';
import type { SchemaCaches } from './domain/schema-cache.js';
import { openApiRoute } from './routes/openapi.js';
import { rpcRoutes } from './routes/rpc.js';
import { tableRoutes } from './routes/tables.js';

export interface Deps {
  config: Config;
  registry: ProjectRegistry;
  pools: ProjectPools;
  caches: SchemaCaches;
  log: Logger;
  /** readiness: the control database and Redis answer */
  ready: () => Promise<void>;
}

export function createApp(deps: Deps) {
  const service = createServiceApp({ name: 'rest', log: deps.log, errorShape: errorShapes.postgrest, ready: deps.ready });
  const api = express.Router();
  api.use(express.json({ limit: '10mb', type: ['application/json', 'application/*+json'], strict: false }));
  api.use(express.urlencoded({ extended: false, limit: '10mb' }));
  api.use(express.text({ type: 'text/csv', limit: '10mb' }));
  api.use(restContext(deps.config, deps.registry, deps.pools, deps.caches));
  api.use(openApiRoute());
  api.use(rpcRoutes(deps.config));
  api.use(tableRoutes(deps.config));
  api.use((req: Request) => {
    throw restErrors.methodNotAllowed(req.method);
  });
  // Body-parser failures are PostgREST's PGRST102; every error also names its code in Proxy-Status (HEAD has no body).
  api.use((err: unknown, _req: Request, res: express.Response, next: (e: unknown) => void) => {
    const e = err as { type?: string; status?: number };
    const out = e && e.type === 'entity.parse.failed' ? restErrors.badBody('Empty or invalid json') : err;
    if (out instanceof BasaltError) res.setHeader('proxy-status', `PostgREST; error=${out.code}`);
    next(out);
  });
  service.app.use('/rest/v1', api);
  return { ...service, app: service.finish() };
}
