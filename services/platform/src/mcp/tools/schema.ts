// Type generation and advisors: read-only views of the project's schema.
import { z } from 'zod';
import { runAdvisors } from '../../domain/advisors.js';
import { typeCatalog } from '../../domain/catalog.js';
import { generateTypes } from '../../domain/typegen.js';
import { defineTool } from '../tool.js';
import { db } from './database.js';

const Ref = z.string().describe('the project ref');
const Schemas = z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/)).default(['public']);

export const schemaTools = [
  defineTool({
    name: 'generate_typescript_types',
    description: 'TypeScript types for the exposed schemas in the shape of `supabase gen types typescript` ' +
      '(export type Database = { public: { Tables: { t: { Row, Insert, Update, Relationships } }, Views, Functions, Enums, CompositeTypes } }). ' +
      'Returns {types} as TypeScript source for createClient<Database>().',
    write: false,
    input: { ref: Ref, schemas: Schemas.describe('schemas to type (default ["public"])') },
    run: async ({ ref, schemas }, ctx) => ({ types: generateTypes(await (await db(ctx, ref))((c) => typeCatalog(c, schemas)), schemas) }),
  }),
  defineTool({
    name: 'get_advisors',
    description: 'Security or performance lints of the exposed schemas. security: rls_disabled_in_public (ERROR), ' +
      'rls_enabled_no_policy (INFO), rls_references_user_metadata (ERROR), function_search_path_mutable (WARN, SECURITY DEFINER functions); ' +
      'performance: unindexed_foreign_keys (INFO), unused_index (INFO). Returns {lints: [{name, title, level, detail, remediation, metadata, …}]}; ' +
      'an empty list means clean. Run it after every schema change.',
    write: false,
    input: { ref: Ref, type: z.enum(['security', 'performance']), schemas: Schemas.describe('schemas to check (default ["public"])') },
    run: async ({ ref, type, schemas }, ctx) => ({ lints: await (await db(ctx, ref))((c) => runAdvisors(c, type, schemas)) }),
  }),
];
