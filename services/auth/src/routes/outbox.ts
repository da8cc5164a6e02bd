// The dev outbox on the platform API (the gateway delegates this path here), behind a platform token.
//   GET /platform/v1/projects/:ref/outbox?email=&limit=
import { Router } from 'express';
import type pg from 'pg';
import { canAccessProject, requestToken, verifyPlatformToken, type Project, type ProjectRegistry } from '@basalt/tenancy';
import { outboxDb } from '../db/outbox.js';
import { authErrors } from '../errors.js';

export function outboxRoutes(control: pg.Pool, registry: ProjectRegistry, db: (p: Project) => pg.Pool): Router {
  const r = Router();
  r.get('/projects/:ref/outbox', async (req, res) => {
    const auth = typeof req.headers.authorization === 'string' ? requestToken({ authorization: req.headers.authorization }) : null;
    const principal = await verifyPlatformToken(control, auth);
    if (!principal) throw authErrors.platformUnauthorized();
    if (!canAccessProject(principal, req.params.ref)) throw authErrors.forbiddenProject(req.params.ref);
    const project = await registry.get(req.params.ref);
    if (!project) throw authErrors.projectNotFound();
    const email = typeof req.query.email === 'string' && req.query.email ? req.query.email : undefined;
    const limit = Math.min(Math.max(Number(req.query.limit) || 50, 1), 500);
    res.json(await outboxDb.list(db(project), { email, limit }));
  });
  return r;
}
