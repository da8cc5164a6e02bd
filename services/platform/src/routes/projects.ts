// /platform/v1/projects: lifecycle, keys, SQL, schema export (Supabase Management API shapes). Custom domains
// are in routes/custom-domains.ts. Mounted in app.ts: the unscoped list needs a token for every project, the
// project list a token with access to :ref (both checked in onRequest hooks, before the body is read).
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import { activeProject, type ProjectsDomain } from '../domain/projects.js';
import type { PlansDomain } from '../domain/plans.js';
import { platformErrors } from '../errors.js';
import { ProjectSettings } from '../domain/settings.js';
import { runSql } from '../domain/sql.js';
import { exportSchema } from '../domain/schema-export.js';

const Ref = z.object({ ref: z.string() });
// `cluster` places the project on a registered cluster; without it, the one with the fewest projects takes it
const CreateProject = z.object({ name: z.string().trim().min(1).max(256), cluster: z.string().min(1).max(63).optional() }).strict();
// An absent body is a no-op PATCH, as it always was.
// `plan` is the operator's: a token scoped to the project (its owner's) may not change it.
const UpdateProject = z.object({
  name: z.string().trim().min(1).max(256).optional(),
  settings: ProjectSettings.optional(),
  plan: z.string().min(1).max(63).optional(),
}).strict().default({});
const Sql = z.object({ query: z.string().min(1).max(1_000_000) });
// `confirm` is compared with the ref in the domain, whatever its type, so a wrong one is confirmation_required.
const DeleteQuery = z.object({ confirm: z.unknown() });
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const ExportQuery = z.object({
  schemas: z
    .unknown()
    .transform((v) => (typeof v === 'string' ? v.split(',') : ['public']))
    .refine((list) => list.every((s) => SCHEMA_NAME.test(s)), 'a comma-separated list of schema names'),
});

/** POST /projects: only an unscoped token creates projects. */
export const newProjectRoutes = (projects: ProjectsDomain) => [
  defineRoute({
    method: 'POST', url: '/projects', schema: { body: CreateProject },
    handler: async (req, reply) => reply.code(201).send(await projects.create(req.body.name, { cluster: req.body.cluster })),
  }),
];

export const projectListRoutes = (projects: ProjectsDomain) => [
  defineRoute({ method: 'GET', url: '/projects', handler: (req) => projects.list(req.platform.projectRefs) }),
];

/** Routes of one project (:ref), for a token with access to it. */
export function projectRoutes(projects: ProjectsDomain, registry: ProjectRegistry, sqlTimeoutMs: number, plans: PlansDomain) {
  const project = (ref: string) => activeProject(registry, ref);
  const sql = (url: string) => defineRoute({
    method: 'POST', url, schema: { params: Ref, body: Sql },
    handler: async (req) => runSql(await project(req.params.ref), req.body.query, sqlTimeoutMs),
  });
  return [
    defineRoute({ method: 'GET', url: '/projects/:ref', schema: { params: Ref }, handler: (req) => projects.get(req.params.ref) }),
    defineRoute({
      method: 'PATCH', url: '/projects/:ref', schema: { params: Ref, body: UpdateProject },
      handler: async (req) => {
        const { plan, ...patch } = req.body;
        if (plan !== undefined) {
          if (req.platform.projectRefs !== null) throw platformErrors.planChangeForbidden(req.params.ref);
          await plans.assign(req.params.ref, plan);
        }
        return projects.update(req.params.ref, patch);
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/projects/:ref', schema: { params: Ref, querystring: DeleteQuery },
      handler: async (req) => {
        await projects.remove(req.params.ref, req.query.confirm);
        return { ref: req.params.ref, deleted: true };
      },
    }),
    defineRoute({ method: 'POST', url: '/projects/:ref/api-keys/rotate', schema: { params: Ref }, handler: (req) => projects.rotateKeys(req.params.ref) }),
    sql('/projects/:ref/sql'),
    sql('/projects/:ref/database/query'),
    defineRoute({
      method: 'GET', url: '/projects/:ref/schema/export', schema: { params: Ref, querystring: ExportQuery },
      handler: async (req, reply) =>
        reply.type('application/sql; charset=utf-8').send(await exportSchema(await project(req.params.ref), req.query.schemas)),
    }),
  ];
}
