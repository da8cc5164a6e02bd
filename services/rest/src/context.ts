// Per-request composition: the project (404 when unknown), the verified principal (401 in PostgREST's JWT
// vocabulary), the schema the request addresses (Accept-Profile / Content-Profile), and the project's pool and
// schema cache. Nothing touches the project database before the token has verified.
import type { Request, RequestHandler } from 'express';
import type pg from 'pg';
import type { ProjectPools } from '@basalt/db';
import { authenticate, AuthError, requestToken, type Principal, type Project, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { restErrors } from './errors.js';
import { exposedSchemas, type SchemaCaches } from './domain/schema-cache.js';
import type { SchemaIndex } from './domain/schema.js';

export interface RestContext {
  project: Project;
  principal: Principal;
  schema: string;
  /** set when the client named a schema, echoed back as Content-Profile */
  profile: string | null;
  pool: pg.Pool;
  index: () => Promise<SchemaIndex>;
  /** reloads the cache once if it may be behind a DDL (a missed table/function/relationship) */
  refresh: () => Promise<SchemaIndex | null>;
  timeoutMs: number;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      rest: RestContext;
    }
  }
}

export function restContext(config: Config, registry: ProjectRegistry, pools: ProjectPools, caches: SchemaCaches): RequestHandler {
  const timeouts = { anon: config.REST_TIMEOUT_ANON_MS, authenticated: config.REST_TIMEOUT_AUTHENTICATED_MS, service_role: config.REST_TIMEOUT_SERVICE_MS };
  return async (req: Request, _res, next) => {
    const ref = req.headers['x-basalt-ref'];
    const project = typeof ref === 'string' ? await registry.get(ref) : null;
    if (!project) throw restErrors.projectNotFound();
    let principal: Principal;
    try {
      principal = authenticate(project, requestToken(req.headers));
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      if (e.reason === 'missing') throw restErrors.anonDisabled();
      if (e.reason === 'expired') throw restErrors.jwtExpired();
      throw restErrors.jwtInvalid(e.reason === 'invalid' ? e.message : e.message);
    }
    const exposed = exposedSchemas(project);
    const header = req.method === 'GET' || req.method === 'HEAD' ? req.headers['accept-profile'] : req.headers['content-profile'];
    const asked = typeof header === 'string' && header.trim() ? header.trim() : null;
    if (asked && !exposed.includes(asked)) throw restErrors.invalidSchema(asked, exposed);
    const pool = pools.get(project);
    req.rest = {
      project, principal, schema: asked ?? exposed[0], profile: asked, pool,
      index: () => caches.get(project, pool),
      refresh: () => caches.refreshIfStale(project, pool),
      timeoutMs: timeouts[principal.role],
    };
    next();
  };
}
