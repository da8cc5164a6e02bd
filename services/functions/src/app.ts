// createApp(deps): the functions service's Fastify app without listen, so tests can drive it directly: the
// management API the gateway delegates (platform token) and invocations streamed into isolates.
import type pg from 'pg';
import type { Meter } from '@basalt/metering';
import client from 'prom-client';
import type { Redis } from 'ioredis';
import type { SecretBox } from '@basalt/crypto';
import { egressPolicy } from '@basalt/egress';
import { createService, errorShapes, registerRoutes, type Logger } from '@basalt/http';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import type { FunctionsDb } from './db/functions.js';
import type { ActiveCache } from './domain/active-cache.js';
import { invoker } from './domain/invoke.js';
import { manageDomain } from './domain/manage.js';
import { fnErrors } from './errors.js';
import { cloudflareApi } from './remote/cloudflare.js';
import { remotePublisher } from './remote/publish.js';
import type { Runtimes, RuntimeStat } from './runtime/runtimes.js';
import { requirePlatformToken } from './routes/auth.js';
import { invokeRoutes, streamBodies } from './routes/invoke.js';
import { manageRoutes } from './routes/manage.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  secrets: SecretBox;
  runtimes: Runtimes;
  active: ActiveCache;
  db: FunctionsDb;
  log: Logger;
  meter?: Meter;
}

export function createApp(deps: Deps) {
  const c = deps.config;
  const service = createService({
    name: 'functions',
    log: deps.log,
    errorShape: errorShapes.basalt,
    validationError: (_message, issues) => fnErrors.invalidBody(issues as never),
    // deploys carry every source file as JSON; invocation bodies are streamed, never buffered, so no limit applies
    bodyLimit: 25 * 1024 * 1024,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  // one series per workerd process: resident memory, isolates loaded, invocations in flight
  for (const [name, help, pick] of [
    ['functions_workerd_rss_bytes', 'resident memory of a workerd process', (s: RuntimeStat) => s.rss_mb * 1024 * 1024],
    ['functions_workerd_isolates', 'isolates a workerd process has loaded', (s: RuntimeStat) => s.isolates],
    ['functions_workerd_inflight', 'invocations a workerd process is running', (s: RuntimeStat) => s.inflight],
  ] as const) {
    new client.Gauge({
      name, help, labelNames: ['process', 'pid'], registers: [service.metrics.registry],
      collect() {
        this.reset();
        for (const s of deps.runtimes.stats()) this.set({ process: s.process, pid: String(s.pid) }, pick(s));
      },
    });
  }
  const db = deps.db;
  // projects whose settings.functions.target is Cloudflare: their API and dispatch URLs are tenant data, so egress-checked
  const remote = remotePublisher({
    api: cloudflareApi(egressPolicy(c.BASALT_EGRESS_ALLOW)), db, secrets: deps.secrets, publicUrl: c.BASALT_PUBLIC_URL, project: (ref) => deps.registry.get(ref),
  });
  const manage = manageDomain(db, deps.secrets, { timeoutMs: c.FUNCTIONS_TIMEOUT_MS, maxBundleBytes: c.FUNCTIONS_MAX_BUNDLE_BYTES }, (ref) => deps.active.changed(ref), remote);
  const invoke = invoker({
    db, active: deps.active, redis: deps.redis, secrets: deps.secrets, runtimes: deps.runtimes, remote, redisPrefix: c.BASALT_REDIS_PREFIX, meter: deps.meter,
    onRateLimitError: (err) => deps.log.warn({ err: err.message }, 'rate limit check skipped'),
    limits: {
      projectRps: c.FUNCTIONS_PROJECT_RPS, functionRps: c.FUNCTIONS_FUNCTION_RPS, memoryMb: c.FUNCTIONS_MEMORY_MB, cpuMs: c.FUNCTIONS_CPU_MS,
      requestBytes: c.FUNCTIONS_MAX_REQUEST_BYTES, responseBytes: c.FUNCTIONS_MAX_RESPONSE_BYTES, projectConcurrency: c.FUNCTIONS_PROJECT_CONCURRENCY,
    },
  });
  service.app.register(async (api) => {
    api.addHook('onRequest', requirePlatformToken(deps.control, deps.registry));
    // A body that is not JSON is no body at all, as before: the schema then names what is missing.
    api.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    registerRoutes(api, manageRoutes(manage));
  }, { prefix: '/platform/v1/projects/:ref' });
  service.app.register(async (api) => {
    streamBodies(api);
    registerRoutes(api, invokeRoutes(invoke, deps.registry, c.BASALT_PUBLIC_URL));
  }, { prefix: '/functions/v1' });
  return service;
}
