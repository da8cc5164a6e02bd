// Per-request composition, in an onRequest hook (before the body is read): the project (404 when unknown), the
// verified principal (401 in PostgREST's JWT vocabulary), the schema the request addresses (Accept-Profile /
// Content-Profile), and the project's pool and schema cache. Nothing touches the project database before the
// token has verified.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { ProjectPools } from '@basalt/db';
import { authenticate, AuthError, capped, requestToken, type Principal, type Project, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { restErrors } from './errors.js';
import type { Target } from './domain/handle.js';
import { exposedSchemas, type SchemaCaches } from './domain/schema-cache.js';
import type { ReadReplicas, ReplicaRoute } from './domain/read-replicas.js';
import type { SchemaIndex } from './domain/schema.js';

export interface RestContext extends Target {
  project: Project;
  /** set when the client named a schema, echoed back as Content-Profile */
  profile: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    rest: RestContext;
  }
}

function verify(project: Project, req: FastifyRequest): Principal {
  try {
    return authenticate(project, requestToken(req.headers));
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    if (e.reason === 'missing') throw restErrors.anonDisabled();
    if (e.reason === 'expired') throw restErrors.jwtExpired();
    throw restErrors.jwtInvalid(e.message);
  }
}

export function restContext(config: Config, registry: ProjectRegistry, pools: ProjectPools, caches: SchemaCaches, replicas?: ReadReplicas) {
  const timeouts = { anon: config.REST_TIMEOUT_ANON_MS, authenticated: config.REST_TIMEOUT_AUTHENTICATED_MS, service_role: config.REST_TIMEOUT_SERVICE_MS };
  return async (req: FastifyRequest) => {
    const ref = req.headers['x-basalt-ref'];
    const project = typeof ref === 'string' ? await registry.get(ref) : null;
    if (!project) throw restErrors.projectNotFound();
    const principal = verify(project, req);
    const exposed = exposedSchemas(project);
    const header = req.method === 'GET' || req.method === 'HEAD' ? req.headers['accept-profile'] : req.headers['content-profile'];
    const asked = typeof header === 'string' && header.trim() ? header.trim() : null;
    if (asked && !exposed.includes(asked)) throw restErrors.invalidSchema(asked, exposed);
    const pool = pools.get(project);
    const settings = (project.settings.rest ?? {}) as { aggregates_enabled?: unknown; plan_enabled?: unknown; safe_updates?: unknown };
    req.rest = new RequestTarget(
      caches, project, principal, asked ?? exposed[0], asked, pool,
      // the plan's statement_timeout_ms caps every role's own
      capped(timeouts[principal.role], project.quotas.statement_timeout_ms), project.quotas.statement_timeout_ms,
      replicas?.route(project, principal.token, pool) ?? null,
      settings.aggregates_enabled === true, settings.plan_enabled === true, settings.safe_updates === false,
    );
  };
}

// A class rather than a literal with two arrow functions: under tsx every closure made per request is also named
// (an Object.defineProperty apiece), and the methods here cost nothing per request.
class RequestTarget implements RestContext {
  constructor(
    private readonly caches: SchemaCaches, readonly project: Project, readonly principal: Principal, readonly schema: string,
    readonly profile: string | null, readonly pool: pg.Pool, readonly timeoutMs: number, readonly quotaMs: number | null,
    readonly replica: ReplicaRoute | null,
    readonly aggregates: boolean, readonly plans: boolean, readonly unfilteredWrites: boolean,
  ) {}

  index(): Promise<SchemaIndex> {
    return this.caches.get(this.project, this.pool);
  }

  refresh(): Promise<SchemaIndex | null> {
    return this.caches.refreshIfStale(this.project, this.pool);
  }
}
