// The quotas a project's plan sets on its database, reconciled with what its cluster has: the login role's
// connection limit (db_connections) and statement_timeout (statement_timeout_ms), and read-only while the database
// is larger than db_bytes, writable again once it is not. Idempotent: it compares first and changes only what
// differs, so it runs on every plan change and periodically (jobs/quota-check.ts) from any number of replicas.
import type { SecretBox } from '@basalt/crypto';
import type { Logger } from '@basalt/http';
import { quotasFrom, type ProjectRegistry } from '@basalt/tenancy';
import type { ClustersDb } from '../db/clusters.js';
import type { PlansDb, QuotaTarget } from '../db/plans.js';
import { readTenantLimits, setConnectionLimit, setReadOnly, setStatementTimeout } from '../db/tenant-limits.js';
import { onCluster } from './provisioner.js';

export interface DbQuotasDeps {
  plans: PlansDb;
  clusters: ClustersDb;
  secrets: SecretBox;
  registry: ProjectRegistry;
  /** the connection limit of a project whose plan sets no db_connections (PROJECT_DB_CONNECTION_LIMIT) */
  defaultConnectionLimit: number;
  log: Logger;
}

export const READ_ONLY_REASON = 'db_bytes';

/** One reconciler at a time per cluster, whichever platform replica runs it (a session advisory lock on the cluster). */
const RECONCILE_LOCK = `select pg_advisory_lock(hashtext('basalt.db_quotas'))`;

export function dbQuotasDomain(d: DbQuotasDeps) {
  /**
   * Targets are read again once the cluster's lock is held: a check that read its targets before a plan change
   * and finished after it would otherwise put the old limits back over the new ones.
   */
  async function reconcileCluster(clusterId: string, load: () => Promise<QuotaTarget[]>): Promise<string[]> {
    const cluster = await d.clusters.get(clusterId);
    if (!cluster) return [];
    const changed = new Set<string>();
    await onCluster(d.secrets.decrypt(cluster.admin_url_enc), async (c) => {
      await c.query(RECONCILE_LOCK);
      const targets = (await load()).filter((t) => t.cluster_id === clusterId);
      const byDb = new Map(targets.map((t) => [t.db_name, t]));
      const sized = targets.filter((t) => quotasFrom(t.quotas).db_bytes !== null).map((t) => t.db_name);
      const current = await readTenantLimits(c, targets.map((t) => ({ dbName: t.db_name, dbRole: t.db_role })), sized);
      for (const now of current) {
        const t = byDb.get(now.dbName);
        if (!t || !now.dbRole) continue;
        const q = quotasFrom(t.quotas);
        const limit = q.db_connections ?? d.defaultConnectionLimit;
        if (now.connectionLimit !== limit) {
          await setConnectionLimit(c, t.db_role, limit);
          changed.add(t.ref);
        }
        const timeout = q.statement_timeout_ms === null ? null : `${Math.trunc(q.statement_timeout_ms)}ms`;
        if (now.statementTimeout !== timeout) {
          await setStatementTimeout(c, t.db_role, timeout);
          changed.add(t.ref);
        }
        const over = q.db_bytes !== null && now.size !== null && now.size > q.db_bytes;
        if (now.readOnly !== over) {
          await setReadOnly(c, t.db_name, over);
          d.log.info({ ref: t.ref, size: now.size, db_bytes: q.db_bytes, readOnly: over }, over ? 'project over db_bytes: read-only' : 'project writable again');
          changed.add(t.ref);
        }
        const reason = over ? READ_ONLY_REASON : null;
        if (t.read_only_reason !== reason) {
          await d.plans.setReadOnlyReason(t.ref, reason);
          changed.add(t.ref);
        }
      }
    });
    return [...changed];
  }

  /** Reconciles the given projects, cluster by cluster; every changed project is invalidated, so pools reconnect with the new settings. */
  async function reconcile(load: () => Promise<QuotaTarget[]>): Promise<string[]> {
    const clusters = new Set((await load()).map((t) => t.cluster_id));
    const changed: string[] = [];
    for (const clusterId of clusters) {
      try {
        changed.push(...(await reconcileCluster(clusterId, load)));
      } catch (err) {
        d.log.warn({ cluster: clusterId, err: (err as Error).message }, 'database quota check failed on a cluster');
      }
    }
    await Promise.all(changed.map((ref) => d.registry.invalidate(ref)));
    return changed;
  }

  return {
    /** Every active project (the periodic check). */
    checkAll: async () => reconcile(() => d.plans.targets()),
    /** One project, now (after its plan changed). */
    checkProject: async (ref: string) => reconcile(() => d.plans.targets(ref)),
  };
}

export type DbQuotasDomain = ReturnType<typeof dbQuotasDomain>;
