// /platform/v1/projects/:ref/backups: logical backups of a project and restores from them (mounted among the
// project routes, so the token's access to :ref is checked before any of these run).
//   POST …/backups                                  202 {id, status, …}: a backup starts in the background
//   GET  …/backups                                  newest first
//   GET  …/backups/:id                              one backup: status, sizes, error
//   POST …/backups/:id/restore {target_ref?}        202 {id, status, …}: replaces the data of :ref or of target_ref
//   GET  …/backups/:id/restores/:restore_id         a restore's status
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { BackupsDomain } from '../domain/backups.js';

const Ref = z.object({ ref: z.string() });
const RefId = z.object({ ref: z.string(), id: z.string() });
const RestoreId = z.object({ ref: z.string(), id: z.string(), restore_id: z.string() });
// an absent body restores into the same project
const Restore = z.object({ target_ref: z.string().regex(/^[a-z]{20}$/, 'a project ref').optional() }).strict().nullish()
  .transform((v) => v ?? {});

export const backupRoutes = (backups: BackupsDomain) => [
  defineRoute({
    method: 'POST', url: '/projects/:ref/backups', schema: { params: Ref },
    handler: async (req, reply) => reply.code(202).send(await backups.create(req.params.ref)),
  }),
  defineRoute({ method: 'GET', url: '/projects/:ref/backups', schema: { params: Ref }, handler: (req) => backups.list(req.params.ref) }),
  defineRoute({ method: 'GET', url: '/projects/:ref/backups/:id', schema: { params: RefId }, handler: (req) => backups.get(req.params.ref, req.params.id) }),
  defineRoute({
    method: 'POST', url: '/projects/:ref/backups/:id/restore', schema: { params: RefId, body: Restore },
    handler: async (req, reply) =>
      reply.code(202).send(await backups.restore(req.platform, req.params.ref, req.params.id, req.body.target_ref)),
  }),
  defineRoute({
    method: 'GET', url: '/projects/:ref/backups/:id/restores/:restore_id', schema: { params: RestoreId },
    handler: (req) => backups.getRestore(req.params.ref, req.params.id, req.params.restore_id),
  }),
];
