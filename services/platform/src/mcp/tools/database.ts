// Database tools: SQL, named migrations recorded in supabase_migrations.schema_migrations (the same record a CLI
// `db push` writes), tables and extensions. All run in the project database as its owner role.
import type pg from 'pg';
import { z } from 'zod';
import { applyMigration, listMigrations, MIGRATION_NAME } from '../../domain/migrations.js';
import { listExtensions, listTables } from '../../domain/catalog.js';
import { runStatements, withProjectDb } from '../../domain/sql.js';
import { defineTool } from '../tool.js';
import type { ToolContext } from '../context.js';

const Ref = z.string().describe('the project ref');
const Schemas = z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/)).default(['public']).describe('schemas to include (default ["public"])');

export const db = (ctx: ToolContext, ref: string, readOnly = ctx.readOnly) =>
  async <T>(fn: Parameters<typeof withProjectDb<T>>[2]) => withProjectDb(await ctx.project(ref), { timeoutMs: ctx.deps.sqlTimeoutMs, readOnly }, fn);

/**
 * Read-only SQL: one statement (the extended protocol refuses several, so no `commit; …` or `set … read write; …`
 * can follow), inside a READ ONLY transaction that has already run a query (so SET TRANSACTION READ WRITE fails).
 */
async function readOnlyStatement(c: pg.Client, query: string): Promise<unknown[]> {
  await c.query('begin transaction read only; select 1');
  try {
    return (await c.query({ text: query, queryMode: 'extended' } as pg.QueryConfig)).rows;
  } finally {
    await c.query('rollback').catch(() => undefined);
  }
}

export const databaseTools = [
  defineTool({
    name: 'execute_sql',
    description: 'Runs SQL (one or more statements) in the project database as the project owner. Returns the rows of ' +
      'the last statement as JSON. In a read-only session it runs one statement in a read-only transaction. Use apply_migration for DDL you want recorded.',
    write: false,
    input: { ref: Ref, query: z.string().min(1).max(1_000_000) },
    run: async ({ ref, query }, ctx) => (await db(ctx, ref))((c) => (ctx.readOnly ? readOnlyStatement(c, query) : runStatements(c, query))),
  }),
  defineTool({
    name: 'apply_migration',
    description: 'Applies a named migration (DDL) in one transaction and records it in supabase_migrations.schema_migrations. ' +
      'Idempotent by name: a name already applied with the same SQL is skipped; with different SQL it is refused. ' +
      'Returns {version, name, applied: true|false}.',
    write: true,
    input: {
      ref: Ref,
      name: z.string().regex(MIGRATION_NAME, 'snake_case: lowercase letters, digits and _').describe('snake_case migration name'),
      query: z.string().min(1).max(1_000_000).describe('the migration SQL'),
    },
    run: async ({ ref, name, query }, ctx) => (await db(ctx, ref))((c) => applyMigration(c, name, query, runStatements)),
  }),
  defineTool({
    name: 'list_migrations',
    description: 'The migrations applied to the project, oldest first: [{version, name, applied_at}].',
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => (await db(ctx, ref, false))(listMigrations),
  }),
  defineTool({
    name: 'list_tables',
    description: 'Tables of the given schemas with their columns (name, type, nullable, default), primary key, foreign keys, ' +
      'RLS state (rls_enabled), row estimate and policies (name, command, roles, using, with_check).',
    write: false,
    input: { ref: Ref, schemas: Schemas },
    run: async ({ ref, schemas }, ctx) => (await db(ctx, ref))((c) => listTables(c, schemas)),
  }),
  defineTool({
    name: 'list_extensions',
    description: 'Extensions available in the project database: [{name, installed_version, default_version, schema, comment}].',
    write: false,
    input: { ref: Ref },
    run: async ({ ref }, ctx) => (await db(ctx, ref))(listExtensions),
  }),
];
