// createApp(deps): the functions service's Express app without listen, so tests can drive it directly.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { SecretBox } from '@basalt/crypto';
import { createServiceApp, errorShapes, type Logger } from '@basalt/http';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { functionsDb } from './db/functions.js';
import { invoker } from './domain/invoke.js';
import { manageDomain } from './domain/manage.js';
import type { Isolates } from './runtime/isolates.js';
import { invokeRoutes } from './routes/invoke.js';
import { manageRoutes } from './routes/manage.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  secrets: SecretBox;
  isolates: Isolates;
  log: Logger;
}

export function createApp(deps: Deps) {
  const service = createServiceApp({
    name: 'functions',
    log: deps.log,
    errorShape: errorShapes.basalt,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  const db = functionsDb(deps.control);
  const c = deps.config;
  const manage = manageDomain(db, deps.secrets, { timeoutMs: c.FUNCTIONS_TIMEOUT_MS, maxBundleBytes: c.FUNCTIONS_MAX_BUNDLE_BYTES });
  const invoke = invoker({
    db, redis: deps.redis, secrets: deps.secrets, isolates: deps.isolates, redisPrefix: c.BASALT_REDIS_PREFIX,
    limits: { projectRps: c.FUNCTIONS_PROJECT_RPS, functionRps: c.FUNCTIONS_FUNCTION_RPS, memoryMb: c.FUNCTIONS_MEMORY_MB },
  });
  service.app.use('/platform/v1/projects/:ref', manageRoutes(manage, deps.control, deps.registry));
  service.app.use(invokeRoutes(invoke, deps.registry, c.BASALT_PUBLIC_URL));
  return { ...service, app: service.finish() };
}
