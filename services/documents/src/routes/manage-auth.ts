// The documents management API is for the project's owner: a platform token with access to the project named
// in the URL, or that project's service_role key (as the AI gateway's). Checked in onRequest, before the body.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { authorizeProjectOwner, type ProjectRegistry } from '@basalt/tenancy';
import { BasaltError } from '@basalt/errors';
import { docErrors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    ref: string;
  }
}

const ownerErrors = {
  unauthorized: () => new BasaltError(401, 'unauthorized', "The project's service_role key or a platform token is required"),
  forbidden: docErrors.forbidden,
  projectNotFound: docErrors.projectNotFound,
};

export const requireProjectOwner = (control: pg.Pool, registry: ProjectRegistry) => async (req: FastifyRequest) => {
  const ref = String((req.params as { ref?: string }).ref);
  req.ref = (await authorizeProjectOwner(control, registry, ownerErrors, req.headers, ref)).ref;
};
