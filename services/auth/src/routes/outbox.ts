// The dev outbox on the platform API (the gateway delegates this path here), behind a platform token.
//   GET /platform/v1/projects/:ref/outbox?email=&limit=
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { canAccessProject, requestToken, verifyPlatformToken, type Project, type ProjectRegistry } from '@basalt/tenancy';
import { outboxDb } from '../db/outbox.js';
import { authErrors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the project an outbox request may read, admitted by requirePlatformAccess */
    outboxProject: Project;
  }
}

const Ref = z.object({ ref: z.string() });
const OutboxQuery = z.object({
  email: z.unknown().transform((e) => (typeof e === 'string' && e ? e : undefined)),
  limit: z.unknown().transform((n) => Math.min(Math.max(Number(n) || 50, 1), 500)),
});

/** onRequest: a platform token with access to the project in the path (headers and path only). */
export const requirePlatformAccess = (control: pg.Pool, registry: ProjectRegistry) => async (req: FastifyRequest) => {
  const ref = (req.params as { ref: string }).ref;
  const auth = typeof req.headers.authorization === 'string' ? requestToken({ authorization: req.headers.authorization }) : null;
  const principal = await verifyPlatformToken(control, auth);
  if (!principal) throw authErrors.platformUnauthorized();
  if (!canAccessProject(principal, ref)) throw authErrors.forbiddenProject(ref);
  const project = await registry.get(ref);
  if (!project) throw authErrors.projectNotFound();
  req.outboxProject = project;
};

export const outboxRoutes = (db: (p: Project) => pg.Pool) => [
  defineRoute({
    method: 'GET', url: '/projects/:ref/outbox', schema: { params: Ref, querystring: OutboxQuery },
    handler: (req) => outboxDb.list(db(req.outboxProject), { email: req.query.email, limit: req.query.limit }),
  }),
];
