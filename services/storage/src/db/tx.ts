// Every metadata statement runs in a transaction as the caller's role, so RLS on storage.* decides; the request
// context (role, claims, BEGIN in one round trip) is @basalt/db's, the one every service shares.
import type pg from 'pg';
import { asCaller, oneTrip, switchCaller, type CallerSettings, type ProjectPools } from '@basalt/db';
import type { Project } from '@basalt/tenancy';
import { fromStorageDbError } from '../errors.js';

/** Who a statement runs as: the request's role and claims, or the service itself (service_role, RLS bypassed). */
export interface Actor {
  role: string;
  claims: Record<string, unknown>;
  /** the HTTP request the statements serve (request.method / request.path, as policies may read them) */
  method?: string;
  path?: string;
}

export const SERVICE: Actor = { role: 'service_role', claims: { role: 'service_role' } };

export type Tx = <T>(actor: Actor, fn: (c: pg.PoolClient) => Promise<T>, opts?: { rollback?: boolean }) => Promise<T>;

/**
 * One statement as the actor in a transaction of its own, sent with its BEGIN, settings and COMMIT as one query: one
 * round trip where a Tx takes three (begin and settings, the statement, commit), for the reads every download and
 * list page makes. Its values go in as literals (@basalt/db's oneTrip).
 */
export type Read = <R extends pg.QueryResultRow>(actor: Actor, text: string, values: unknown[]) => Promise<R[]>;

const settingsOf = (actor: Actor): CallerSettings => ({ role: actor.role, claims: actor.claims, method: actor.method, path: actor.path });

/** A transaction runner bound to one project's pool. `rollback` makes it a dry run (permission probes). */
export function projectTx(pools: ProjectPools, project: Project): Tx {
  return (actor, fn, opts = {}) => asCaller(pools.get(project), settingsOf(actor), fn, { rollback: opts.rollback, mapError: fromStorageDbError });
}

/** A Read bound to one project's pool. */
export function projectRead(pools: ProjectPools, project: Project): Read {
  return (actor, text, values) => oneTrip(pools.get(project), settingsOf(actor), text, values, fromStorageDbError);
}

/** Switches the running transaction to the service role for one read (the caller's context is restored after). */
export async function asService<T>(c: pg.PoolClient, actor: Actor, fn: () => Promise<T>): Promise<T> {
  await switchCaller(c, { role: SERVICE.role, claims: SERVICE.claims, method: actor.method, path: actor.path });
  try {
    return await fn();
  } finally {
    await switchCaller(c, { role: actor.role, claims: actor.claims, method: actor.method, path: actor.path });
  }
}
