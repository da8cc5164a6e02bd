// Forward-only SQL migrations: files NNNN_<what>.sql applied in order, once, under an advisory lock,
// recorded per owner (a service name) so every service can migrate its own tables in the control database.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { silenceBound } from './silence.js';

export interface Migration {
  name: string;
  sql: string;
}

export async function readMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(files.map(async (name) => ({ name, sql: await readFile(join(dir, name), 'utf8') })));
}

const LOCK_KEY = 7_315_002; // any constant; advisory locks are per database

/** Applies what is new in `migrations` to the database behind `client`; returns the names applied. */
export async function migrate(client: pg.ClientBase, owner: string, migrations: Migration[]): Promise<string[]> {
  await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await client.query(`create schema if not exists basalt_migrations;
      create table if not exists basalt_migrations.applied (
        owner text not null, name text not null, applied_at timestamptz not null default now(),
        primary key (owner, name))`);
    const { rows } = await client.query<{ name: string }>('select name from basalt_migrations.applied where owner = $1', [owner]);
    const done = new Set(rows.map((r) => r.name));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await client.query('begin');
      try {
        await client.query(m.sql);
        await client.query('insert into basalt_migrations.applied (owner, name) values ($1, $2)', [owner, m.name]);
        await client.query('commit');
      } catch (e) {
        await client.query('rollback').catch(() => undefined);
        throw new Error(`migration ${owner}/${m.name} failed: ${(e as Error).message}`, { cause: e });
      }
      applied.push(m.name);
    }
    return applied;
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
  }
}

/** A service's start-up step: apply its migrations folder to the database behind `pool`. */
export async function migrateDir(pool: pg.Pool, owner: string, dir: URL): Promise<string[]> {
  const migrations = await readMigrations(fileURLToPath(dir));
  const client = await pool.connect();
  // a migration may rightly run long, and wait on another replica's (the lock above): never counted as silence
  silenceBound(client, Infinity);
  try {
    return await migrate(client, owner, migrations);
  } finally {
    silenceBound(client, null);
    client.release();
  }
}
