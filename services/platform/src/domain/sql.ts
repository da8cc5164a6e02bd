// A developer's SQL in their project database, as the project owner role (basalt_admin), never as a superuser.
// Each use gets its own connection, closed afterwards, so no SET, temp table or open transaction outlives it.
// Read-only sessions (MCP's read-only mode) run with default_transaction_read_only, so Postgres refuses writes.
import pg from 'pg';
import type { Project } from '@basalt/tenancy';
import { platformErrors } from '../errors.js';
import { SQL_API_APPLICATION } from './statement-watchdog.js';

export async function withProjectDb<T>(project: Project, opts: { timeoutMs: number; readOnly?: boolean }, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  // named, so that the statement watchdog allows it this timeout rather than the plan's (statement-watchdog.ts)
  const client = new pg.Client({ connectionString: project.connectionString, connectionTimeoutMillis: 5_000, application_name: SQL_API_APPLICATION });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`set role basalt_admin; set statement_timeout = ${Math.floor(opts.timeoutMs)}`);
    if (opts.readOnly) await client.query('set default_transaction_read_only = on');
    return await fn(client);
  } catch (e) {
    const err = e as { message: string; code?: string };
    if (err.code && /^[0-9A-Z]{5}$/.test(err.code)) throw platformErrors.sql(err);
    throw e;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Several statements in the simple protocol (no parameters): the last statement's rows. */
export async function runStatements(c: pg.Client, query: string): Promise<unknown[]> {
  const result = (await c.query(query)) as pg.QueryResult | pg.QueryResult[];
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return last?.rows ?? [];
}

export const runSql = (project: Project, query: string, timeoutMs: number): Promise<unknown[]> =>
  withProjectDb(project, { timeoutMs }, (c) => runStatements(c, query));
