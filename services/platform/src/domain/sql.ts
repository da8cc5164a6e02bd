// Runs a developer's SQL in their project database as the project owner role (basalt_admin), never as a superuser.
// Each call gets its own connection, closed afterwards, so no SET, temp table or open transaction outlives it.
import pg from 'pg';
import type { Project } from '@basalt/tenancy';
import { platformErrors } from '../errors.js';

export async function runSql(project: Project, query: string, timeoutMs: number): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: project.connectionString, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`set role basalt_admin; set statement_timeout = ${Math.floor(timeoutMs)}`);
    // No parameters: node-postgres then uses the simple protocol, which allows several statements.
    const result = (await client.query(query)) as pg.QueryResult | pg.QueryResult[];
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    return last?.rows ?? [];
  } catch (e) {
    const err = e as { message: string; code?: string };
    if (err.code && /^[0-9A-Z]{5}$/.test(err.code)) throw platformErrors.sql(err);
    throw e;
  } finally {
    await client.end().catch(() => undefined);
  }
}
