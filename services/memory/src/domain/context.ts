// Per-request composition: the caller, the project's memory settings and its pool, and the one way statements
// run — as the caller (RLS applies to signed-in users) or as the service role for the service's own bookkeeping.
import type pg from 'pg';
import { asCaller } from '@basalt/db';
import { fromPgError } from '@basalt/errors';
import type { Caller } from './access.js';
import type { MemorySettings } from './settings.js';

export interface Ctx {
  caller: Caller;
  settings: MemorySettings;
  pool: pg.Pool;
}

export const asUser = <T>(ctx: Ctx, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> =>
  asCaller(ctx.pool, { role: ctx.caller.kind === 'user' ? 'authenticated' : 'service_role', claims: ctx.caller.claims, timeoutMs: 30_000 }, fn, { mapError: (e) => fromPgError(e) });

export const asService = <T>(ctx: Ctx, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> =>
  asCaller(ctx.pool, { role: 'service_role', claims: { role: 'service_role', ref: ctx.caller.project.ref }, timeoutMs: 30_000 }, fn, { mapError: (e) => fromPgError(e) });

export const actorOf = (ctx: Ctx): string => (ctx.caller.kind === 'user' ? `user:${ctx.caller.userId}` : ctx.caller.kind);
