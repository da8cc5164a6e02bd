// One request, one transaction: the caller's role, claims, search_path, statement timeout and read-only mode set
// transaction-locally (all bound parameters), the statement(s), then COMMIT or ROLLBACK (Prefer: tx=rollback).
// inRequestStatement is the one-round-trip form for a single statement; inRequestTx the explicit one for
// requests that must look at the rows before deciding to commit.
import type pg from 'pg';
import { ident } from '@basalt/db';
import { pipelined, SETTINGS_SQL, settingsValues, type StatementSettings } from './pipeline.js';
import type { RequestRole } from '@basalt/tenancy';

export interface TxOptions {
  role: RequestRole;
  claims: Record<string, unknown>;
  schema: string;
  timeoutMs: number;
  readOnly: boolean;
  rollback: boolean;
  method: string;
  path: string;
  /** Prefer: timezone=… */
  timezone?: string | null;
}

function settingsOf(o: Omit<TxOptions, 'rollback'>): StatementSettings {
  return {
    searchPath: `"${o.schema.replace(/"/g, '""')}", extensions`,
    timeoutMs: o.timeoutMs,
    role: o.role,
    claims: JSON.stringify({ ...o.claims, role: o.role }),
    sub: typeof o.claims.sub === 'string' ? o.claims.sub : '',
    method: o.method,
    path: o.path,
    readOnly: o.readOnly,
    timezone: o.timezone ?? null,
  };
}

export async function inRequestTx<T>(pool: pg.Pool, o: TxOptions, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  let released = false;
  try {
    await client.query(o.readOnly ? 'begin read only' : 'begin');
    await client.query(SETTINGS_SQL, settingsValues(settingsOf(o)));
    const out = await fn(client);
    if (o.readOnly && !o.rollback) {
      // A read-only transaction has nothing to make durable: its COMMIT is queued on this client (node-pg runs a
      // client's queries in order, so the next request's BEGIN waits behind it) and the response goes out now.
      // A failed COMMIT discards the connection instead of returning it to the pool.
      client.query('commit').then(() => client.release(), (err) => client.release(err));
      released = true;
      return out;
    }
    await client.query(o.rollback ? 'rollback' : 'commit');
    return out;
  } catch (e) {
    await client.query('rollback').catch(() => {
      broken = true;
    });
    throw e;
  } finally {
    if (!released) client.release(broken);
  }
}

/** The common case — one statement, committed — in a single round trip (see pipeline.ts). */
export async function inRequestStatement(pool: pg.Pool, o: Omit<TxOptions, 'rollback'>, text: string, values: unknown[]): Promise<Record<string, string | null>[]> {
  const client = await pool.connect();
  const settings = settingsOf(o);
  try {
    const { rows } = await pipelined(client, settings, text, values);
    client.release();
    return rows;
  } catch (e) {
    const err = e as { severity?: string; sent?: string[] };
    if (!err.severity) {
      client.release(true); // not a Postgres error: the connection itself is suspect
      throw e;
    }
    // Statements whose preparation may have failed with the rest of the pipeline are dropped; the next use
    // prepares them again. Queued on this client, so they run before its next user's queries.
    for (const n of err.sent ?? []) client.query(`deallocate ${ident(n)}`).catch(() => undefined);
    client.release();
    throw e;
  }
}
