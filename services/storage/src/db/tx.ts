// Every metadata statement runs in a transaction as the caller's role, so RLS on storage.* decides.
import type pg from 'pg';
import { literal, setRequestRole, type ProjectPools } from '@basalt/db';
import type { Project } from '@basalt/tenancy';
import { fromStorageDbError } from '../errors.js';

/** Who a statement runs as: the request's role and claims, or the service itself (service_role, RLS bypassed). */
export interface Actor {
  role: string;
  claims: Record<string, unknown>;
}

export const SERVICE: Actor = { role: 'service_role', claims: { role: 'service_role' } };

export type Tx = <T>(actor: Actor, fn: (c: pg.PoolClient) => Promise<T>, opts?: { rollback?: boolean }) => Promise<T>;

const beginAs = (actor: Actor): string => {
  const sub = typeof actor.claims.sub === 'string' ? actor.claims.sub : '';
  return `begin; select set_config('role', ${literal(actor.role)}, true), set_config('request.jwt.claims', ${literal(JSON.stringify(actor.claims))}, true),
    set_config('request.jwt.claim.sub', ${literal(sub)}, true), set_config('request.jwt.claim.role', ${literal(actor.role)}, true)`;
};

/** A transaction runner bound to one project's pool. `rollback` makes it a dry run (permission probes). */
export function projectTx(pools: ProjectPools, project: Project): Tx {
  return async (actor, fn, opts = {}) => {
    const client = await pools.get(project).connect();
    let broken = false;
    try {
      // BEGIN and the caller's settings in one round trip (a simple query; the values are quoted literals)
      await client.query(beginAs(actor));
      const result = await fn(client);
      await client.query(opts.rollback ? 'rollback' : 'commit');
      return result;
    } catch (e) {
      await client.query('rollback').catch(() => (broken = true));
      throw fromStorageDbError(e);
    } finally {
      client.release(broken);
    }
  };
}

/** Switches the running transaction to the service role for one read (the caller's role is restored after). */
export async function asService<T>(c: pg.PoolClient, actor: Actor, fn: () => Promise<T>): Promise<T> {
  await setRequestRole(c, SERVICE.role, SERVICE.claims);
  try {
    return await fn();
  } finally {
    await setRequestRole(c, actor.role, actor.claims);
  }
}
