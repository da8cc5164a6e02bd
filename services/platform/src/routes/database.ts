// The schema side of a project in the shape of Supabase's Management API (what `basalt db push`, `gen types` and
// CI scripts call; the MCP tools share the same code):
//   GET  /projects/:ref/database/migrations                 [{version, name, applied_at}], oldest first
//   POST /projects/:ref/database/migrations {query, name}   {version, name, applied}: recorded, idempotent by name
//   GET  /projects/:ref/types/typescript[?included_schemas=public,app]   {types}
//   GET  /projects/:ref/advisors/security | performance     {lints: [{name, title, level, detail, remediation, …}]}
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import { applyMigration, listMigrations, MIGRATION_NAME } from '../domain/migrations.js';
import { runStatements, withProjectDb } from '../domain/sql.js';
import { runAdvisors } from '../domain/advisors.js';
import { typeCatalog } from '../domain/catalog.js';
import { activeProject } from '../domain/projects.js';
import { generateTypes } from '../domain/typegen.js';

const Ref = z.object({ ref: z.string() });
const SCHEMA = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const Schemas = z.object({
  included_schemas: z.string().default('public').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(SCHEMA, 'not a schema name')).min(1)),
});
const Migration = z.object({
  query: z.string().min(1).max(1_000_000),
  name: z.string().regex(MIGRATION_NAME, 'snake_case: lowercase letters, digits and _'),
}).strict();
const Lints = z.object({ ref: z.string(), type: z.enum(['security', 'performance']) });

export function databaseRoutes(registry: ProjectRegistry, timeoutMs: number) {
  const onProject = async <T>(ref: string, fn: Parameters<typeof withProjectDb<T>>[2]) => withProjectDb(await activeProject(registry, ref), { timeoutMs }, fn);
  return [
    defineRoute({ method: 'GET', url: '/projects/:ref/database/migrations', schema: { params: Ref }, handler: (req) => onProject(req.params.ref, listMigrations) }),
    defineRoute({
      method: 'POST', url: '/projects/:ref/database/migrations', schema: { params: Ref, body: Migration },
      handler: (req) => onProject(req.params.ref, (c) => applyMigration(c, req.body.name, req.body.query, runStatements)),
    }),
    defineRoute({
      method: 'GET', url: '/projects/:ref/types/typescript', schema: { params: Ref, querystring: Schemas },
      handler: async (req) => {
        const schemas = req.query.included_schemas;
        return { types: generateTypes(await onProject(req.params.ref, (c) => typeCatalog(c, schemas)), schemas) };
      },
    }),
    defineRoute({
      method: 'GET', url: '/projects/:ref/advisors/:type', schema: { params: Lints, querystring: Schemas },
      handler: async (req) => ({ lints: await onProject(req.params.ref, (c) => runAdvisors(c, req.params.type, req.query.included_schemas)) }),
    }),
  ];
}
