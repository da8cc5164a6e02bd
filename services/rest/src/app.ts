// createApp(deps): the REST service's Fastify app without listen, so tests and benchmarks can drive it.
import type { FastifyError } from 'fastify';
import type { ProjectPools } from '@basalt/db';
import { BasaltError } from '@basalt/errors';
import { createService, errorShapes, parseJson, registerRoutes, type Logger, type Service } from '@basalt/http';
import { readOnlyOverQuota, type Project, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { restContext } from './context.js';
import { restErrors } from './errors.js';
import type { SchemaCaches } from './domain/schema-cache.js';
import type { ReadReplicas } from './domain/read-replicas.js';
import { openApiRoutes } from './routes/openapi.js';
import { PREFIX } from './routes/reply.js';
import { rpcRoutes } from './routes/rpc.js';
import { tableRoutes } from './routes/tables.js';

export interface Deps {
  config: Config;
  registry: ProjectRegistry;
  pools: ProjectPools;
  caches: SchemaCaches;
  /** reads on the cluster's streaming replica, when it has one */
  replicas?: ReadReplicas;
  log: Logger;
  /** readiness: the control database and Redis answer */
  ready: () => Promise<void>;
}

const BODY_LIMIT = 10 * 1024 * 1024;

/**
 * Body parser failures are PostgREST's PGRST102 (a too-deep body keeps its own message). A write refused because
 * the platform made the project read-only (over a quota) keeps Postgres's 25006 and says why in the hint.
 */
function restError(err: unknown, project: Project | undefined): unknown {
  const overQuota = readOnlyOverQuota(err, project);
  if (overQuota && err instanceof BasaltError) return new BasaltError(err.status, err.code, err.message, { details: overQuota.details, hint: overQuota.hint, cause: err });
  if (err instanceof BasaltError && err.code === 'invalid_json') {
    return restErrors.badBody(/nested deeper/.test(err.message) ? err.message : 'Empty or invalid json');
  }
  if ((err as FastifyError)?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return restErrors.badBody('Empty or invalid json');
  return err;
}

export function createApp(deps: Deps): Service {
  const { config } = deps;
  const service = createService({
    name: 'rest', log: deps.log, errorShape: errorShapes.postgrest, ready: deps.ready, bodyLimit: BODY_LIMIT,
    // PostgREST accepts a bare scalar as a JSON body
    json: { types: ['application/json'], strict: false }, forms: true,
  });
  service.app.register(async (api) => {
    api.decorateRequest('rest', null as never);
    // application/*+json (the vnd.pgrst types among them) is JSON too; CSV is read as text and parsed per route.
    api.addContentTypeParser(/^application\/[\w.+-]+\+json$/i, { parseAs: 'buffer' }, (_req, body, done) => {
      try {
        done(null, parseJson(body as Buffer, { strict: false }));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    api.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    // Any other type is read and dropped: a write then has no body (PGRST102), as PostgREST answers.
    api.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));
    api.addHook('onRequest', restContext(config, deps.registry, deps.pools, deps.caches, deps.replicas));
    const limits = { maxRows: config.REST_MAX_ROWS, maxDepth: config.REST_MAX_EMBED_DEPTH, maxFilters: config.REST_MAX_FILTERS };
    registerRoutes(api, [...openApiRoutes(config.BASALT_PUBLIC_URL), ...rpcRoutes(limits), ...tableRoutes(limits)]);
    api.setNotFoundHandler(async (req) => {
      throw restErrors.methodNotAllowed(req.method);
    });
    // Every error names its code in Proxy-Status (HEAD has no body); the service's handler renders it.
    api.setErrorHandler(async (err, req, reply) => {
      const out = restError(err, req.rest?.project);
      if (out instanceof BasaltError) reply.header('proxy-status', `PostgREST; error=${out.code}`);
      throw out;
    });
  }, { prefix: PREFIX });
  return service;
}
