// The management API is for a platform token with access to the project (the gateway delegates it here); the
// check needs only headers, so it runs in onRequest, before a deploy's body is read.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { canAccessProject, requestToken, verifyPlatformToken, type ProjectRegistry } from '@basalt/tenancy';
import { fnErrors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the project the owner check admitted */
    ref: string;
  }
}

export const requirePlatformToken = (control: pg.Pool, registry: ProjectRegistry) => async (req: FastifyRequest) => {
  const ref = String((req.params as { ref?: string }).ref);
  const principal = await verifyPlatformToken(control, requestToken(req.headers));
  if (!principal) throw fnErrors.unauthorized();
  if (!canAccessProject(principal, ref)) throw fnErrors.forbidden();
  if (!(await registry.get(ref))) throw fnErrors.projectNotFound();
  req.ref = ref;
};
