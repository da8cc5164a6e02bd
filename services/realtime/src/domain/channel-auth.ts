// Private channels are authorised by the project's RLS policies on realtime.messages, evaluated with the
// caller's role and claims and realtime.topic() set to the channel name. Nothing a probe writes survives, so probes
// run on a project the platform made read-only too (its readers still join).
import type pg from 'pg';
import { asCaller, switchCaller, type ProjectPools } from '@basalt/db';
import type { Principal, Project } from '@basalt/tenancy';
import { broadcastsSince, insertAsCaller, insertProbes, setTopic, visibleExtensions, type StoredBroadcast } from '../db/messages.js';

const ADMIN = { role: 'basalt_admin', claims: {} };
const callerOf = (p: Principal) => ({ role: p.role, claims: p.claims });
const denied = (e: unknown) => ['42501', '42P01', '42883'].includes((e as { code?: string }).code ?? '');

export class ChannelAuth {
  constructor(private readonly pools: ProjectPools) {}

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
    }, { rollback: true, writes: true }).catch((e) => (denied(e) ? false : Promise.reject(e)));
  }

  async canWrite(project: Project, p: Principal, topic: string, extension: 'broadcast' | 'presence'): Promise<boolean> {
    if (p.role === 'service_role') return true;
    return asCaller(this.pool(project), callerOf(p), async (tx) => {
      await setTopic(tx, topic);
      await insertAsCaller(tx, topic, extension);
      return true;
    }, { rollback: true, writes: true }).catch((e) => (denied(e) ? false : Promise.reject(e)));
  }

  /** Stored broadcasts of a private topic the caller may read (RLS decides which). */
  async replay(project: Project, p: Principal, topic: string, since: Date, limit: number): Promise<StoredBroadcast[]> {
    return asCaller(this.pool(project), callerOf(p), async (tx) => {
      await setTopic(tx, topic);
      return broadcastsSince(tx, topic, since, limit);
    }, { rollback: true, }).catch((e) => (denied(e) ? [] : Promise.reject(e)));
  }
}
