// A parsed request, top to bottom as PostgREST's App.hs reads: plan against the schema cache → SQL → execute as
// the caller → respond. A name the cache does not know plans once more on a fresh cache, since DDL notifications
// arrive asynchronously.
import { transactionBound } from '@basalt/db';
import { BasaltError } from '@basalt/errors';
import { execute, explain } from '../db/execute.js';
import { restErrors } from '../errors.js';
import { planContentType, type ApiRequest } from './parse.js';
import type { Limits } from './plan-read.js';
import { planRequest } from './plan.js';
import { respond, type Response } from './respond.js';
import { capped, type Principal } from '@basalt/tenancy';
import type pg from 'pg';
import type { SchemaIndex } from './schema.js';
import { toSql } from './sql.js';
import type { ReplicaRoute } from './read-replicas.js';

/** What the request context hands the pipeline: who asks, in which schema, against which database. */
export interface Target {
  principal: Principal;
  schema: string;
  pool: pg.Pool;
  /** the role's statement timeout, capped by the plan's */
  timeoutMs: number;
  /** the plan's statement_timeout_ms: it caps a function's own too */
  quotaMs: number | null;
  /** the project's settings.rest switches (PostgREST's db-aggregates-enabled, db-plan-enabled; safe_updates off) */
  aggregates: boolean;
  plans: boolean;
  unfilteredWrites: boolean;
  index: () => Promise<SchemaIndex>;
  /** set when the project's cluster has a read replica (domain/read-replicas.ts) */
  replica?: ReplicaRoute | null;
  /** reloads the cache once if it may be behind a DDL */
  refresh: () => Promise<SchemaIndex | null>;
}

const CACHE_MISS = new Set(['PGRST200', 'PGRST202', 'PGRST204', 'PGRST205']);

export async function withIndex<T>(t: Target, plan: (index: SchemaIndex) => T): Promise<T> {
  const index = await t.index();
  try {
    return plan(index);
  } catch (e) {
    if (!(e instanceof BasaltError) || !CACHE_MISS.has(e.code)) throw e;
    const fresh = await t.refresh();
    if (!fresh) throw e;
    return plan(fresh);
  }
}


/**
 * A request's statement timeout: the role's, or for a call of a function with a `set statement_timeout` of its own,
 * that one (PostgREST 12.2 hoists it into the transaction: Supabase's way to let one function run longer or
 * shorter; set inside the function it would come too late, the statement's timer being set when it starts). The
 * plan's statement_timeout_ms caps either; a function's 0 is none, or the plan's cap.
 */
function timeoutOf(t: Target, fnTimeoutMs: number | null | undefined): number {
  if (fnTimeoutMs === null || fnTimeoutMs === undefined) return t.timeoutMs;
  if (fnTimeoutMs === 0) return t.quotaMs ?? 0;
  return capped(fnTimeoutMs, t.quotaMs);
}

export async function handle(t: Target, req: ApiRequest, limits: Limits): Promise<Response> {
  // PostgREST without db-plan-enabled does not produce the plan media type at all: 406 like any other.
  if (req.plan && !t.plans) throw restErrors.mediaType(planContentType(req.plan).replace(/; charset=utf-8$/, ''));
  const lim: Limits = t.aggregates || t.unfilteredWrites ? { ...limits, aggregates: t.aggregates, unfilteredWrites: t.unfilteredWrites } : limits;
  const plan = await withIndex(t, (index) => planRequest(req, index, t.schema, lim));
  // reads (and calls of STABLE or IMMUTABLE functions) may go to the replica; a call of a VOLATILE one never does
  const replicaRead = !!t.replica && plan.exec.readOnly && !(plan.kind === 'call' && plan.fn.volatility === 'v');
  const timeoutMs = timeoutOf(t, plan.kind === 'call' ? plan.fn.timeoutMs : null);
  const caller = {
    pool: replicaRead ? await t.replica!.read() : t.pool, role: t.principal.role, claims: t.principal.claims, schema: t.schema, timeoutMs,
    // when it stops waiting for a database that does not answer (its timeout and the grace; none for none)
    deadlineMs: transactionBound(timeoutMs),
    method: req.method, path: req.path, timezone: req.prefer.timezone,
  };
  if (req.plan) {
    const body = await explain(caller, plan.exec, toSql(plan).main, req.plan.format, req.plan.options);
    return { status: 200, headers: {}, body, type: planContentType(req.plan) };
  }
  const result = await execute(caller, plan.exec, toSql(plan));
  if (t.replica && !plan.exec.readOnly && !plan.exec.rollback) await t.replica.wrote();
  return respond(req, plan, result);
}
