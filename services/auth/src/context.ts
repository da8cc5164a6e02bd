// Per-request composition: which project, its settings, its database (as basalt_admin, the owner of the auth
// schema), the caller's IP and the public base URL for links. Nothing touches a database before the project
// is known and, outside the open routes, before the request's apikey has verified against the project's secret.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { ProjectPools } from '@basalt/db';
import type { EgressPolicy } from '@basalt/egress';
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
  /** what outbound calls made for this project (OAuth, OIDC, SMTP) may reach */
  egress: EgressPolicy;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set by resolveProject for every route under /auth/v1 */
    ctx: AuthContext;
  }
}

export const AUTH_PREFIX = '/auth/v1';

/** Browser redirects reach these without an apikey (Kong's open routes). */
const OPEN = new Set(['/verify', '/callback', '/authorize', '/.well-known/jwks.json'].map((p) => `${AUTH_PREFIX}${p}`));

/** The project's pool; its connections are basalt_admin from session start (main.ts builds the pools with that role). */
export const projectDb = (pools: ProjectPools) => (project: Project): pg.Pool => pools.get(project);

/** An onRequest hook: it needs only headers, so a request without a valid apikey is refused before its body is read. */
export function resolveProject(registry: ProjectRegistry, db: (p: Project) => pg.Pool, publicUrl: string, egress: EgressPolicy) {
  return async (req: FastifyRequest) => {
    const ref = req.headers['x-basalt-ref'];
    const project = typeof ref === 'string' ? await registry.get(ref) : null;
    if (!project) throw authErrors.projectNotFound();
    if (!OPEN.has(req.routeOptions.url ?? '')) {
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
      ip: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      baseUrl,
      authUrl: `${baseUrl}${AUTH_PREFIX}`,
      userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
      egress,
    };
  };
}
