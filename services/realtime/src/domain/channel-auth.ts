// Private channels are authorised by the project's RLS policies on realtime.messages, evaluated with the
// caller's role and claims and realtime.topic() set to the channel name. Nothing a probe writes survives, so probes
// run on a project the platform made read-only too (its readers still join). A policy that raises (a topic cast to
// uuid that is not one, a function that throws) refuses the caller, as Supabase Realtime answers an RlsPolicyError,
// and is logged with the project's ref: the database was reached, it is the policy that failed.
import type pg from 'pg';
import { asCaller, switchCaller, type ProjectPools } from '@basalt/db';
import { isPgConnectionError, isSqlStateError } from '@basalt/errors';
import type { Logger } from '@basalt/http';
import type { Principal, Project } from '@basalt/tenancy';
import { broadcastsSince, insertAsCaller, insertProbes, setTopic, visibleExtensions, type StoredBroadcast } from '../db/messages.js';

const ADMIN = { role: 'basalt_admin', claims: {} };
const callerOf = (p: Principal) => ({ role: p.role, claims: p.claims });
/** SQLSTATE classes of a database that is failing, not of a policy: connection, resources, system, internal */
const DATABASE_CLASSES = new Set(['08', '53', '58', 'XX']);

export class ChannelAuth {
  constructor(private readonly pools: ProjectPools, private readonly log: Logger) {}

  /** false when the probe's error is the policy's answer (no privilege, or a policy that raised); else rethrown */
  #denied(project: Project, topic: string, e: unknown): false {
    if (!isSqlStateError(e) || isPgConnectionError(e) || DATABASE_CLASSES.has(e.code.slice(0, 2))) throw e;
    if (e.code !== '42501') this.log.warn({ ref: project.ref, topic, code: e.code, err: e.message }, 'RlsPolicyError: a policy on realtime.messages raised an error; the caller is refused');
    return false;
  }

  pool(project: Project): pg.Pool {
    return this.pools.get(project);
  }

  async canRead(project: Project, p: Principal, topic: string): Promise<boolean> {
    if (p.role === 'service_role') return true;
    return asCaller(this.pool(project), ADMIN, async (tx) => {
      const ids = await insertProbes(tx, topic);
      await switchCaller(tx, callerOf(p));
      await setTopic(tx, topic);
      return (await visibleExtensions(tx, ids)).length > 0;
    }, { rollback: true, writes: true }).catch((e) => this.#denied(project, topic, e));
  }

  async canWrite(project: Project, p: Principal, topic: string, extension: 'broadcast' | 'presence'): Promise<boolean> {
    if (p.role === 'service_role') return true;
    return asCaller(this.pool(project), callerOf(p), async (tx) => {
      await setTopic(tx, topic);
      await insertAsCaller(tx, topic, extension);
      return true;
    }, { rollback: true, writes: true }).catch((e) => this.#denied(project, topic, e));
  }

  /** Stored broadcasts of a private topic the caller may read (RLS decides which). */
  async replay(project: Project, p: Principal, topic: string, since: Date, limit: number): Promise<StoredBroadcast[]> {
    return asCaller(this.pool(project), callerOf(p), async (tx) => {
      await setTopic(tx, topic);
      return broadcastsSince(tx, topic, since, limit);
    }, { rollback: true, }).catch((e) => (this.#denied(project, topic, e), []));
  }
}
