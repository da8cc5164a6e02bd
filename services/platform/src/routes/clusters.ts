// /platform/v1/clusters (operators: unscoped tokens): the Postgres clusters projects are placed on, and
// /projects/:ref/move, which moves a project's database to another of them.
//   GET    /clusters                     → [{id, projects, has_replica, accepts_new_projects, created_at}]
//   POST   /clusters {id, admin_url, replica_url?, accepts_new_projects?} → 201 (or 200 when updated)
//   DELETE /clusters/:id                 → only when it holds no project
//   POST   /projects/:ref/move {cluster} → {ref, cluster, moved, read_only_ms}
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { PlacementDomain } from '../domain/placement.js';
import { requireUnscoped } from './auth.js';

const ClusterId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _ (at most 63)');
const PostgresUrl = z.string().url().refine((u) => /^postgres(ql)?:\/\//.test(u), 'a postgres:// URL');
const NewCluster = z.object({
  id: ClusterId,
  admin_url: PostgresUrl,
  replica_url: PostgresUrl.optional(),
  accepts_new_projects: z.boolean().optional(),
}).strict();
const Move = z.object({ cluster: ClusterId }).strict();

export const clusterRoutes = (placement: PlacementDomain) => [
  defineRoute({ method: 'GET', url: '/clusters', handler: () => placement.list() }),
  defineRoute({
    method: 'POST', url: '/clusters', schema: { body: NewCluster },
    handler: async (req, reply) => {
      const { created, cluster } = await placement.register(req.body);
      return reply.code(created ? 201 : 200).send(cluster);
    },
  }),
  defineRoute({
    method: 'DELETE', url: '/clusters/:id', schema: { params: z.object({ id: z.string() }) },
    handler: async (req) => {
      await placement.remove(req.params.id);
      return { id: req.params.id, deleted: true };
    },
  }),
];

/** Under /projects/:ref (project access checked there); moving is for operators too. */
export const moveRoutes = (placement: PlacementDomain) => [
  defineRoute({
    method: 'POST', url: '/projects/:ref/move', schema: { params: z.object({ ref: z.string() }), body: Move },
    preHandler: requireUnscoped('(move)'),
    handler: (req) => placement.move(req.params.ref, req.body.cluster),
  }),
];
