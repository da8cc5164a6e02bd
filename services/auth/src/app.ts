// createApp(deps): the auth service's Fastify app without listen, so tests and benchmarks can drive it:
// GoTrue's API under /auth/v1 (project resolved and apikey checked before any body is read) and the dev outbox
// under /platform/v1.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { BasaltError, errors, isSqlStateError } from '@basalt/errors';
import type { SecretBox } from '@basalt/crypto';
import { plannerStatistics, type ProjectPools } from '@basalt/db';
import { egressPolicy } from '@basalt/egress';
import { createService, registerRoutes, type Logger } from '@basalt/http';
import { pingControlPlane, readOnlyOverQuota, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { AUTH_PREFIX, projectDb, resolveProject } from './context.js';
import { passwords } from './domain/password.js';
import { rateLimiter } from './domain/rate-limit.js';
import { authErrors } from './errors.js';
import { JSON_TYPES, useAuthBodies } from './http/bodies.js';
import { echoApiVersion, gotrueShape } from './http/wire.js';
import { databaseCleanup } from './jobs/cleanup.js';
import { adminRoutes, requireAdminHook } from './routes/admin.js';
import { emailRoutes } from './routes/email.js';
import { factorRoutes } from './routes/factors.js';
import { oauthRoutes } from './routes/oauth.js';
import { outboxRoutes, requirePlatformAccess } from './routes/outbox.js';
import { sessionRoutes } from './routes/sessions.js';
import { adminSsoRoutes, ssoRoutes } from './routes/sso.js';
import { userRoutes } from './routes/user.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  pools: ProjectPools;
  secrets: SecretBox;
  log: Logger;
}

const GOTRUE_HEALTH = { version: 'basalt', name: 'GoTrue', description: 'Basalt auth is a user registration and authentication API' };

export function createApp(deps: Deps) {
  // every field of an auth body lands in Postgres text, which cannot hold a NUL: refused as the bad input it is
  const json = { types: JSON_TYPES, refuseNul: true };
  const service = createService({
    name: 'auth',
    log: deps.log,
    errorShape: gotrueShape,
    validationError: (message) => authErrors.validation(message),
    bodyLimit: 1024 * 1024,
    json,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  const { app } = service;
  useAuthBodies(app, json);
  app.addHook('onRequest', echoApiVersion);
  app.decorateRequest('ctx', null as never);
  app.decorateRequest('outboxProject', null as never);

  const db = projectDb(deps.pools);
  const routeDeps = {
    pw: passwords(deps.config.BCRYPT_COST),
    limit: rateLimiter(deps.redis, deps.config.BASALT_REDIS_PREFIX, deps.log),
  };

  app.register(async (platform) => {
    platform.addHook('onRequest', requirePlatformAccess(deps.control, deps.registry));
    registerRoutes(platform, outboxRoutes(db));
  }, { prefix: '/platform/v1' });

  app.get(`${AUTH_PREFIX}/health`, async () => GOTRUE_HEALTH);
  const cleanup = databaseCleanup(deps.log);
  const statistics = plannerStatistics('auth', deps.log);
  app.register(async (api) => {
    api.addHook('onRequest', resolveProject(deps.registry, db, deps.config.BASALT_PUBLIC_URL, egressPolicy(deps.config.BASALT_EGRESS_ALLOW)));
    // a project's database is cleaned as it is used (GoTrue cleans after requests too), and its statistics kept
    // in step with its growth; a sleeping one needs neither, nor one the platform made read-only (its writes fail)
    api.addHook('onResponse', async (req) => {
      if (!req.ctx || req.ctx.project.readOnlyReason) return;
      cleanup.nudge(req.ctx.db, req.ctx.project.ref);
      statistics.nudge(req.ctx.db, req.ctx.project.ref);
    });
    // Thrown on, an error is rendered by the service's error handler (which also reads off an oversized body).
    api.setErrorHandler(async (err: { code?: unknown }, req) => {
      // A write the platform's read-only mode refused (the project over a quota) is the caller's to know about
      const overQuota = readOnlyOverQuota(err, req.ctx?.project);
      if (overQuota) throw authErrors.readOnly(overQuota.quota, overQuota.message);
      // Any other database error that reaches here is our bug, not the caller's: a 500, never a SQL message in a 4xx.
      throw isSqlStateError(err) && !(err instanceof BasaltError) ? errors.internal(err) : err;
    });
    // Unknown paths under /auth/v1 still need the project and its apikey first, as every other path does.
    api.setNotFoundHandler(async (req) => {
      throw errors.notFound(`route ${req.method} ${req.url.split('?')[0]}`);
    });
    registerRoutes(api, [
      ...sessionRoutes(routeDeps), ...userRoutes(routeDeps), ...emailRoutes(routeDeps),
      ...factorRoutes(routeDeps, deps.secrets), ...oauthRoutes(), ...ssoRoutes(),
    ]);
    api.register(async (admin) => {
      admin.addHook('onRequest', requireAdminHook);
      registerRoutes(admin, [...adminRoutes(routeDeps), ...adminSsoRoutes()]);
    });
  }, { prefix: AUTH_PREFIX });
  return service;
}
