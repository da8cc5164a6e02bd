// What `basalt dev` checks before it starts anything: that the control database, if there is one, opens with
// this checkout's master key; and, only when asked by name, the reset that drops it and every project it lists.
import pg from 'pg';
import { databaseName, withDatabase } from '@basalt/config';
import { SecretBox } from '@basalt/crypto';
import { checkMasterKey, masterKeyMismatchMessage, projectDatabases } from '@basalt/tenancy';
import { CliError } from './command.js';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const exists = (adminUrl: string, name: string) =>
  withClient(adminUrl, async (c) => ((await c.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0);

/** Throws a CliError with the ways out when the control database was sealed with another key. */
export async function ensureMasterKeyMatches(databaseUrl: string, masterKey: string): Promise<void> {
  const name = databaseName(databaseUrl);
  if (!(await exists(withDatabase(databaseUrl, 'postgres'), name))) return;
  const check = await withClient(databaseUrl, (c) => checkMasterKey(c, new SecretBox(masterKey)));
  if (check.state === 'mismatch') throw new CliError(masterKeyMismatchMessage(name, check.projects), 78);
}

/**
 * Drops the control database named `confirm` (it must be the one DATABASE_URL names), the tenant template, and
 * every project database and login role it lists. Returns what was dropped.
 */
export async function resetControlDatabase(databaseUrl: string, confirm: string): Promise<{ projects: number }> {
  const name = databaseName(databaseUrl);
  if (confirm !== name) throw new CliError(`--reset-control-db must name the control database to drop ("${name}"), got "${confirm}"`, 2);
  const adminUrl = withDatabase(databaseUrl, 'postgres');
  if (!(await exists(adminUrl, name))) return { projects: 0 };
  const projects = await withClient(databaseUrl, projectDatabases);
  const q = (id: string) => `"${id.replace(/"/g, '""')}"`;
  await withClient(adminUrl, async (c) => {
    for (const p of projects) {
      await c.query(`drop database if exists ${q(p.db_name)} with (force)`);
      await c.query(`drop role if exists ${q(p.db_role)}`);
    }
    await c.query(`drop database if exists ${q(`${name}_tenant_template`.slice(0, 63))} with (force)`);
    await c.query(`drop database if exists ${q(name)} with (force)`);
  });
  return { projects: projects.length };
}
