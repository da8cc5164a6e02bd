// Per-request composition, in an onRequest hook (before the body is read): the project (404 when unknown), the
// verified principal (401 in PostgREST's JWT vocabulary), the schema the request addresses (Accept-Profile /
// Content-Profile), and the project's pool and schema cache. Nothing touches the project database before the
// token has verified.
import type { FastifyRequest } from 'fastify';
import type { ProjectPools } from '@basalt/db';
import { authenticate, AuthError, capped, requestToken, type Principal, type Project, type ProjectRegistry } from '@basalt/tenancy';
import type { Config } from './config.js';
import { restErrors } from './errors.js';
import type { Target } from './domain/handle.js';
import { exposedSchemas, type SchemaCaches } from './domain/schema-cache.js';
import type { ReadReplicas } from './domain/read-replicas.js';

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
    const settings = (project.settings.rest ?? {}) as { aggregates_enabled?: unknown; plan_enabled?: unknown };
    req.rest = {
      project, principal, schema: asked ?? exposed[0], profile: asked, pool,
      index: () => caches.get(project, pool),
      refresh: () => caches.refreshIfStale(project, pool),
      // the plan's statement_timeout_ms caps every role's own
      timeoutMs: capped(timeouts[principal.role], project.quotas.statement_timeout_ms),
      replica: replicas?.route(project, principal.token, pool) ?? null,
      aggregates: settings.aggregates_enabled === true,
      plans: settings.plan_enabled === true,
    };
  };
}
