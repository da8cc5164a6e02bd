// Creates the control database on first start: a fresh machine has a Postgres server but no `basalt` database.
import pg from 'pg';
import { ident } from './pool.js';

export async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
  admin.on('error', () => undefined); // a connection lost between queries fails the next query, not the process
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      await admin.query(`create database ${ident(name)}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created concurrently by another service
      });
    }
  } finally {
    await admin.end();
  }
}
