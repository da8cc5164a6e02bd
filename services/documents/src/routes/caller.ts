// Per-request composition for /mongo/v1: the project the gateway named, and the caller its apikey or bearer
// token proves. Both come from headers, in onRequest, so nothing of a refused request's body is read.
import type { FastifyRequest } from 'fastify';
import { authenticate, AuthError, requestToken, type Principal, type Project, type ProjectRegistry } from '@basalt/tenancy';
import { docErrors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    project: Project;
    principal: Principal;
  }
}

export const identifyCaller = (registry: ProjectRegistry) => async (req: FastifyRequest) => {
  const ref = req.headers['x-basalt-ref'];
  // a cached project without a promise (peek); else the registry's load, which also refuses malformed refs
  const project = typeof ref === 'string' ? (registry.peek(ref) ?? await registry.get(ref)) : null;
  if (!project) throw docErrors.projectNotFound();
  try {
    req.principal = authenticate(project, requestToken(req.headers));
  } catch (e) {
    if (e instanceof AuthError) throw docErrors.unauthorized();
    throw e;
  }
  req.project = project;
};
