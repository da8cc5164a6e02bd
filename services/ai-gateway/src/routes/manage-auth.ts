// The AI management API is for the project's owner: a platform token with access to the project named in the
// URL, or that project's service_role key. The check needs only headers, so it runs in onRequest, before a
// body is read; the ref is the URL's (the gateway delegates these paths without resolving a project).
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { authorizeProjectOwner, type ProjectRegistry } from '@basalt/tenancy';
import { aiErrors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the project the owner check admitted */
    ref: string;
  }
}

export const requireProjectOwner = (control: pg.Pool, registry: ProjectRegistry) => async (req: FastifyRequest) => {
  const ref = String((req.params as { ref?: string }).ref);
  // a service_role key of another project carries its own ref: authenticate() refuses it against this one
  req.ref = (await authorizeProjectOwner(control, registry, aiErrors, req.headers, ref)).ref;
};
