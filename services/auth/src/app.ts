// createApp(deps): the auth service's Express app without listen, so tests and benchmarks can drive it.
import express, { type Request } from 'express';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { BasaltError, errors } from '@basalt/errors';
import type { SecretBox } from '@basalt/crypto';
import type { ProjectPools } from '@basalt/db';
import { createServiceApp, type Logger } from '@basalt/http';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { projectDb, resolveProject } from './context.js';
import { passwords } from './domain/password.js';
import { rateLimiter } from './domain/rate-limit.js';
import type { WithWeakPassword } from './errors.js';
import { adminRoutes } from './routes/admin.js';
import { emailRoutes } from './routes/email.js';
import { factorRoutes } from './routes/factors.js';
import { oauthRoutes } from './routes/oauth.js';
import { outboxRoutes } from './routes/outbox.js';
import { sessionRoutes } from './routes/sessions.js';
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

const API_VERSION = /^\d{4}-\d{2}-\d{2}$/;
const apiVersion = (req: Request) => {
  const v = req.headers['x-supabase-api-version'];
  return typeof v === 'string' && API_VERSION.test(v) && v >= '2024-01-01' ? v : null;
};

// auth-js reads `code` as the error code only when the response carries X-Supabase-Api-Version; otherwise it
// reads the legacy {code: <status>, error_code, msg} body.
const BODY_PARSER_CODES: Record<string, string> = { invalid_json: 'bad_json', not_found: 'not_found', bad_request: 'validation_failed' };
function gotrueShape(e: BasaltError, req: Request) {
  const code = BODY_PARSER_CODES[e.code] ?? (e.status >= 500 ? 'unexpected_failure' : e.code);
  const weak = (e as WithWeakPassword).weakPassword;
  const extra = weak ? { weak_password: weak } : {};
  if (apiVersion(req)) return { code, message: e.message, ...extra };
  return { code: e.status, error_code: code, msg: e.message, ...(e.status >= 500 ? { error_id: req.id } : {}), ...extra };
}

export function createApp(deps: Deps) {
  const service = createServiceApp({
    name: 'auth',
    log: deps.log,
    errorShape: gotrueShape,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  const routeDeps = {
    pw: passwords(deps.config.BCRYPT_COST),
    limit: rateLimiter(deps.redis, deps.config.BASALT_REDIS_PREFIX, deps.log),
  };
  const db = projectDb(deps.pools);
  service.app.use((req, res, next) => {
    if (apiVersion(req)) res.setHeader('x-supabase-api-version', '2024-01-01');
    next();
  });
  service.app.use('/platform/v1', outboxRoutes(deps.control, deps.registry, db));

  const api = express.Router();
  api.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json', 'text/plain'] }));
  api.use(express.urlencoded({ extended: false, limit: '1mb' }));
  api.get('/health', (_req, res) => void res.json({ version: 'basalt', name: 'GoTrue', description: 'Basalt auth is a user registration and authentication API' }));
  api.use(resolveProject(deps.registry, db, deps.config.BASALT_PUBLIC_URL));
  api.use(sessionRoutes(routeDeps));
  api.use(userRoutes(routeDeps));
  api.use(emailRoutes(routeDeps));
  api.use(adminRoutes(routeDeps));
  api.use(factorRoutes(routeDeps, deps.secrets));
  api.use(oauthRoutes());
  // A database error that reaches here is our bug, not the caller's: a 500, never a SQL message in a 4xx.
  api.use((err: unknown, _req: Request, _res: unknown, next: (e: unknown) => void) => {
    const code = (err as { code?: unknown }).code;
    next(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !(err instanceof BasaltError) ? errors.internal(err) : err);
  });
  service.app.use('/auth/v1', api);
  return { ...service, app: service.finish() };
}
