// Per-request composition: the caller, the project's memory settings and its pool, and the one way statements
// run — as the caller (RLS applies to signed-in users) or as the service role for the service's own bookkeeping.
import type pg from 'pg';
import { asCaller, type CallerSettings } from '@basalt/db';
import { fromPgError } from '@basalt/errors';
import { capped } from '@basalt/tenancy';
import type { Caller } from './access.js';
import type { MemorySettings } from './settings.js';

export interface Ctx {
  caller: Caller;
  settings: MemorySettings;
  pool: pg.Pool;
  /** aborted when the client goes away before its answer is sent; absent outside a request (the infer worker) */
  signal?: AbortSignal;
}

/** a statement's time: the service's own bound, capped by the plan's statement_timeout_ms */
const timeoutMs = (ctx: Ctx) => capped(30_000, ctx.caller.project.quotas.statement_timeout_ms);

/** who statements run as for the caller (RLS applies to a signed-in user) */
export const userSettings = (ctx: Ctx): CallerSettings =>
  ({ role: ctx.caller.kind === 'user' ? 'authenticated' : 'service_role', claims: ctx.caller.claims, timeoutMs: timeoutMs(ctx) });

/** the service's own bookkeeping in the caller's project */
export const serviceSettings = (ctx: Ctx): CallerSettings =>
  ({ role: 'service_role', claims: { role: 'service_role', ref: ctx.caller.project.ref }, timeoutMs: timeoutMs(ctx) });

export const mapPgError = (e: unknown): unknown => fromPgError(e);

export const asUser = <T>(ctx: Ctx, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> =>
  asCaller(ctx.pool, userSettings(ctx), fn, { mapError: mapPgError });

export const asService = <T>(ctx: Ctx, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> =>
  asCaller(ctx.pool, serviceSettings(ctx), fn, { mapError: mapPgError });

export const actorOf = (ctx: Ctx): string => (ctx.caller.kind === 'user' ? `user:${ctx.caller.userId}` : ctx.caller.kind);
