// Per-request composition: which project, its settings, its database (as basalt_admin, the owner of the auth
// schema), the caller's IP and the public base URL for links. Nothing touches a database before the project
// is known and, outside the open routes, before the request's apikey has verified against the project's secret.
import type { Request, RequestHandler } from 'express';
import type pg from 'pg';
import type { ProjectPools } from '@basalt/db';
import { projectBaseUrl } from '@basalt/http';
import { authenticate, requestToken, type Project, type ProjectRegistry } from '@basalt/tenancy';
import { authErrors } from './errors.js';
import { authSettings, type AuthSettings } from './domain/settings.js';

export interface AuthContext {
  project: Project;
  settings: AuthSettings;
  db: pg.Pool;
  ip: string;
  /** the project's public URL (gateway's x-basalt-base-url) */
  baseUrl: string;
  /** the `iss` of our tokens and the prefix of our links */
  authUrl: string;
  userAgent: string | null;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      ctx: AuthContext;
    }
  }
}

/** Browser redirects reach these without an apikey (Kong's open routes). */
const OPEN = ['/verify', '/callback', '/authorize', '/.well-known/jwks.json'];

export function projectDb(pools: ProjectPools) {
  const prepared = new WeakSet<pg.Pool>();
  return (project: Project): pg.Pool => {
    const pool = pools.get(project);
    if (!prepared.has(pool)) {
      // This pool only ever serves the auth service's own bookkeeping, so the role is set once per connection.
      pool.on('connect', (c) => void c.query('set role basalt_admin').catch(() => undefined));
      prepared.add(pool);
    }
    return pool;
  };
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

export function resolveProject(registry: ProjectRegistry, db: (p: Project) => pg.Pool, publicUrl: string): RequestHandler {
  return async (req, _res, next) => {
    const ref = req.headers['x-basalt-ref'];
    const project = typeof ref === 'string' ? await registry.get(ref) : null;
    if (!project) throw authErrors.projectNotFound();
    if (!OPEN.includes(req.path)) {
      try {
        authenticate(project, typeof req.headers.apikey === 'string' ? req.headers.apikey : requestToken(req.headers));
      } catch {
        throw authErrors.noAuthorization();
      }
    }
    const baseUrl = projectBaseUrl(req.headers, publicUrl, project.ref);
    const ua = req.headers['user-agent'];
    req.ctx = {
      project,
      settings: authSettings(project),
      db: db(project),
      ip: clientIp(req),
      baseUrl,
      authUrl: `${baseUrl}/auth/v1`,
      userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
    };
    next();
  };
}
