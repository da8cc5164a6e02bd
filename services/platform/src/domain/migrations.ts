// Named migrations of a project, recorded in supabase_migrations.schema_migrations as the Supabase CLI records
// `db push` (version, name, statements[]): applied in one transaction, idempotent by name (the same SQL again is
// skipped; different SQL under an applied name is refused), one at a time per project. The MCP tools, the
// Management API routes and `basalt db push` all go through here, so they share one record.
// basalt_migrations is taken: it records the template's own migrations.
import type pg from 'pg';
import { platformErrors } from '../errors.js';

const MIGRATIONS_DDL = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
  alter table supabase_migrations.schema_migrations add column if not exists applied_at timestamptz not null default now();
  create unique index if not exists schema_migrations_name on supabase_migrations.schema_migrations (name);
  revoke all on schema supabase_migrations from public;`;

export const MIGRATION_NAME = /^[a-z0-9_]{1,128}$/;

export interface AppliedMigration {
  version: string;
  name: string;
  applied: boolean;
}

/** Runs `run` (the migration's statements) and records it, unless a migration of that name is already applied. */
export async function applyMigration(c: pg.Client, name: string, query: string, run: (c: pg.Client, query: string) => Promise<unknown>): Promise<AppliedMigration> {
  await c.query(MIGRATIONS_DDL);
  await c.query('begin');
  try {
    // one migration at a time per project: the name check and the apply cannot interleave
    await c.query("select pg_advisory_xact_lock(hashtext('supabase_migrations'))");
    const { rows: [old] } = await c.query('select version, statements[1] as statements from supabase_migrations.schema_migrations where name = $1', [name]);
    if (old) {
      await c.query('rollback');
      if (old.statements !== query) throw platformErrors.validation(`migration ${name} was already applied (version ${old.version}) with different SQL; add a new migration instead`);
      return { version: old.version, name, applied: false };
    }
    await run(c, query);
    const { rows: [row] } = await c.query(
      `insert into supabase_migrations.schema_migrations (version, name, statements)
       values (to_char(clock_timestamp() at time zone 'utc', 'YYYYMMDDHH24MISSUS'), $1, array[$2]) returning version`, [name, query]);
    await c.query('commit');
    return { version: row.version, name, applied: true };
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  }
}

/** The migrations applied, oldest first. */
export async function listMigrations(c: pg.Client): Promise<{ version: string; name: string; applied_at: Date }[]> {
  const { rows: [t] } = await c.query("select to_regclass('supabase_migrations.schema_migrations') is not null as present");
  if (!t.present) return [];
  return (await c.query('select version, name, applied_at from supabase_migrations.schema_migrations order by version')).rows;
}
