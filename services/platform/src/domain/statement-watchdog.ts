// The plan's statement_timeout_ms as a hard limit. The project login's statement_timeout (db-quotas.ts) bounds a
// statement only while the session keeps it: any client that can send SQL may send `set statement_timeout = 0`
// first (the SQL API takes several statements at once), and a function may leave it raised for its session with
// set_config(…, false), after which a statement would run without end on a cluster other projects share. (Raised
// inside a statement it comes too late for that statement, whose timer is set when it starts.) Each pass looks at
// what the capped projects run on each cluster and stops what has run past the plan's limit (stopOverruns).
// Passes of several replicas at once only signal a backend twice.
import type pg from 'pg';
import type { SecretBox } from '@basalt/crypto';
import { createPool } from '@basalt/db';
import type { Logger } from '@basalt/http';
import { quotasFrom, type ProjectRegistry } from '@basalt/tenancy';
import type { ClustersDb } from '../db/clusters.js';
import type { PlansDb } from '../db/plans.js';
import { stopOverruns, type Overrun, type StatementCap } from '../db/tenant-limits.js';
import { adminDatabaseUrl } from './provisioner.js';

/** the application_name of the platform's SQL API sessions (sql.ts), which run under the API's own timeout */
export const SQL_API_APPLICATION = 'basalt-platform-sql';

/**
 * How long the projects' caps and the clusters' addresses are kept between passes. Any project change this replica
 * hears of (a plan change applied to a project's login is one) drops them at once; a new cluster waits for this.
 */
const CATALOG_TTL_MS = 10_000;

export interface StatementWatchdogDeps {
  plans: PlansDb;
  clusters: ClustersDb;
  secrets: SecretBox;
  registry: ProjectRegistry;
  log: Logger;
  /** the SQL API's statement timeout (SQL_STATEMENT_TIMEOUT_MS) */
  sqlApiTimeoutMs: number;
  /** past the cap by this much, a statement is cancelled */
  graceMs?: number;
  /** past the cap by this much, its session is terminated */
  terminateMs?: number;
}

type Catalog = { at: number; byCluster: Map<string, { adminUrlEnc: string; caps: StatementCap[] }>; refs: Map<string, string> };

export function statementWatchdog(d: StatementWatchdogDeps) {
  const graceMs = d.graceMs ?? 1_000;
  const terminateMs = d.terminateMs ?? graceMs + 3_000;
  /** one connection per cluster, kept between passes (by the cluster's encrypted admin URL) */
  const pools = new Map<string, pg.Pool>();
  let catalog: Catalog | null = null;
  d.registry.onInvalidate(() => (catalog = null));

  async function load(): Promise<Catalog> {
    const [targets, clusters] = await Promise.all([d.plans.targets(), d.clusters.list()]);
    const urls = new Map(clusters.map((c) => [c.id, c.admin_url_enc]));
    const byCluster: Catalog['byCluster'] = new Map();
    const refs = new Map<string, string>();
    for (const t of targets) {
      const capMs = quotasFrom(t.quotas).statement_timeout_ms;
      const adminUrlEnc = urls.get(t.cluster_id);
      if (capMs === null || adminUrlEnc === undefined) continue;
      let entry = byCluster.get(t.cluster_id);
      if (!entry) byCluster.set(t.cluster_id, (entry = { adminUrlEnc, caps: [] }));
      entry.caps.push({ dbName: t.db_name, dbRole: t.db_role, capMs });
      refs.set(t.db_name, t.ref);
    }
    return { at: Date.now(), byCluster, refs };
  }

  function poolFor(adminUrlEnc: string): pg.Pool {
    let pool = pools.get(adminUrlEnc);
    if (!pool) {
      const url = adminDatabaseUrl(d.secrets.decrypt(adminUrlEnc));
      // a cluster that stops answering fails its pass after 10 s rather than stalling every later one
      pools.set(adminUrlEnc, (pool = createPool(url, { max: 1, idleTimeoutMillis: 60_000, applicationName: 'basalt-platform-watchdog', silenceMs: 10_000 })));
    }
    return pool;
  }

  /** One pass over every cluster: what it stopped, each with its project. */
  async function pass(): Promise<(Overrun & { ref: string | undefined })[]> {
    if (!catalog || Date.now() - catalog.at > CATALOG_TTL_MS) catalog = await load();
    const { byCluster, refs } = catalog;
    const stopped: (Overrun & { ref: string | undefined })[] = [];
    await Promise.all([...byCluster].map(async ([cluster, { adminUrlEnc, caps }]) => {
      try {
        const found = await stopOverruns(poolFor(adminUrlEnc), caps, { graceMs, terminateMs, sqlApi: { name: SQL_API_APPLICATION, timeoutMs: d.sqlApiTimeoutMs } });
        for (const o of found) {
          const ref = refs.get(o.dbName);
          stopped.push({ ...o, ref });
          d.log.warn({ ref, pid: o.pid, past_ms: o.pastMs, application_name: o.applicationName }, `statement past the plan's statement_timeout_ms ${o.action}`);
        }
      } catch (err) {
        d.log.warn({ cluster, err: (err as Error).message }, 'statement watchdog failed on a cluster');
      }
    }));
    // a cluster gone or re-addressed: its connection goes
    const live = new Set([...byCluster.values()].map((c) => c.adminUrlEnc));
    for (const [key, pool] of pools) {
      if (live.has(key)) continue;
      pools.delete(key);
      void pool.end().catch(() => undefined);
    }
    return stopped;
  }

  return {
    pass,
    close: async () => {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.end().catch(() => undefined)));
    },
  };
}

export type StatementWatchdog = ReturnType<typeof statementWatchdog>;
