// Glue shared by the table and RPC routes: run the planner against the schema cache (retrying once on a fresh
// cache when a name is missing, since DDL notifications arrive asynchronously), run the transaction, and map
// Postgres errors to PostgREST's statuses (42501 → 401 for anon, 403 otherwise).
import type { Request, Response } from 'express';
import { BasaltError, fromPgError } from '@basalt/errors';
import type { Limits } from '../domain/build.js';
import { parsePrefer } from '../domain/request.js';
import type { SchemaIndex } from '../domain/schema.js';
import { inRequestStatement, inRequestTx, type TxOptions } from '../db/tx.js';
import type pg from 'pg';

const CACHE_MISS = new Set(['PGRST200', 'PGRST202', 'PGRST204', 'PGRST205']);

export async function withIndex<T>(req: Request, plan: (index: SchemaIndex) => T): Promise<T> {
  const index = await req.rest.index();
  try {
    return plan(index);
  } catch (e) {
    if (!(e instanceof BasaltError) || !CACHE_MISS.has(e.code)) throw e;
    const fresh = await req.rest.refresh();
    if (!fresh) throw e;
    return plan(fresh);
  }
}

export function runTx<T>(req: Request, o: Pick<TxOptions, 'readOnly' | 'rollback'>, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const r = req.rest;
  return mapErrors(req, inRequestTx(r.pool, { ...o, role: r.principal.role, claims: r.principal.claims, schema: r.schema, timeoutMs: r.timeoutMs, method: req.method, path: req.path, timezone: parsePrefer(req.headers.prefer).timezone }, fn));
}

/** One statement, committed, in one round trip; rows come back with text fields. */
export async function runStatement(req: Request, readOnly: boolean, sql: string, values: unknown[]): Promise<Record<string, string | null>[]> {
  const r = req.rest;
  // Prepared statements are named after their text; the schema generation in it retires them after DDL,
  // so no statement analysed against an older schema is reused on a pooled connection.
  const text = `/* ${(await r.index()).generation} */ ${sql}`;
  return mapErrors(req, inRequestStatement(r.pool, { readOnly, role: r.principal.role, claims: r.principal.claims, schema: r.schema, timeoutMs: r.timeoutMs, method: req.method, path: req.path, timezone: parsePrefer(req.headers.prefer).timezone }, text, values));
}

async function mapErrors<T>(req: Request, p: Promise<T>): Promise<T> {
  const r = req.rest;
  try {
    return await p;
  } catch (e) {
    if (e instanceof Error && /timeout exceeded when trying to connect/.test(e.message)) {
      throw new BasaltError(504, 'PGRST003', 'Timed out acquiring connection from connection pool.', { cause: e });
    }
    const mapped = fromPgError(e, r.principal.role === 'anon');
    if (mapped instanceof BasaltError && mapped.code === '57014') {
      throw new BasaltError(504, '57014', mapped.message, { details: null, hint: 'The request exceeded the statement timeout of its role', cause: e });
    }
    throw mapped;
  }
}

export function limitsOf(config: { REST_MAX_ROWS: number; REST_MAX_EMBED_DEPTH: number; REST_MAX_FILTERS: number }): Limits {
  return { maxRows: config.REST_MAX_ROWS, maxDepth: config.REST_MAX_EMBED_DEPTH, maxFilters: config.REST_MAX_FILTERS };
}

export function searchOf(req: Request): URLSearchParams {
  const i = req.originalUrl.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : req.originalUrl.slice(i + 1));
}

export function sendBody(req: Request, res: Response, status: number, body: string | null, type: string): void {
  if (req.rest.profile) res.setHeader('content-profile', req.rest.profile);
  res.status(status);
  if (body === null) return void res.end();
  res.setHeader('content-type', type);
  if (req.method === 'HEAD') return void res.end();
  res.end(body);
}
