// Every metadata statement runs in a transaction as the caller's role, so RLS on storage.* decides; the request
// context (role, claims, BEGIN in one round trip) is @basalt/db's, the one every service shares.
import type pg from 'pg';
import { asCaller, switchCaller, type ProjectPools } from '@basalt/db';
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

/** A transaction runner bound to one project's pool. `rollback` makes it a dry run (permission probes). */
export function projectTx(pools: ProjectPools, project: Project): Tx {
  return (actor, fn, opts = {}) =>
    asCaller(pools.get(project), { role: actor.role, claims: actor.claims, method: actor.method, path: actor.path }, fn, { rollback: opts.rollback, mapError: fromStorageDbError });
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
