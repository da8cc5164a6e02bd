// Placement over several Postgres clusters: registering a cluster (its roles and tenant template made there, its
// streaming replica checked), and moving a project to another cluster with a short read-only window:
// read-only on the old cluster → pg_dump | pg_restore into a fresh database on the new one → the registry entry
// switched (every service connects there next) → the old database and login dropped. Any failure before the switch
// undoes what was made and leaves the project writable where it was.
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '@basalt/crypto';
import type { Logger } from '@basalt/http';
import { databaseLocale, prepareTemplate } from '@basalt/tenant-schema';
import type { ProjectRegistry } from '@basalt/tenancy';
import { feedPgTool, runPgTool } from '../clients/pg-tools.js';
import type { ClustersDb } from '../db/clusters.js';
import { isInRecovery, setDatabaseReadOnly, systemIdentifier, type placementDb } from '../db/placement.js';
import type { ProjectsDb } from '../db/projects.js';
import { platformErrors } from '../errors.js';
import { createTenantDatabase, dropTenantDatabase, onCluster } from './provisioner.js';

export interface PlacementDeps {
  clusters: ClustersDb;
  projects: ProjectsDb;
  placement: ReturnType<typeof placementDb>;
  secrets: SecretBox;
  registry: ProjectRegistry;
  templateName: string;
  connectionLimit: number;
  /** the directory of pg_dump and pg_restore ('' = PATH) */
  pgBin: string;
  /** re-applies the plan's database-side quotas (role connection limit) where the project now lives */
  applyPlan: (ref: string) => Promise<unknown>;
  log: Logger;
}

export interface NewCluster {
  id: string;
  admin_url: string;
  replica_url?: string;
  accepts_new_projects?: boolean;
}

const onDb = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();

async function reach<T>(url: string, what: string, fn: Parameters<typeof onCluster<T>>[1]): Promise<T> {
  try {
    return await onCluster(url, fn);
  } catch (e) {
    throw platformErrors.clusterUnreachable(what, (e as Error).message);
  }
}

export function placementDomain(d: PlacementDeps) {
  const view = (c: { id: string; replica_url_enc: string | null; accepts_new_projects: boolean; created_at: Date }, projects: number) => ({
    id: c.id, projects, has_replica: c.replica_url_enc !== null, accepts_new_projects: c.accepts_new_projects, created_at: c.created_at.toISOString(),
  });

  return {
    async list() {
      return (await d.clusters.list()).map((c) => view(c, c.projects));
    },

    /** Registers (or updates) a cluster after checking it: reachable, its replica a replica of it, roles and template made. */
    async register(c: NewCluster) {
      const primaryId = await reach(c.admin_url, 'admin_url', async (pg) => {
        if (await isInRecovery(pg)) throw new Error('it is a standby (in recovery), not a primary');
        return systemIdentifier(pg);
      });
      if (c.replica_url) {
        const replicaId = await reach(c.replica_url, 'replica_url', async (pg) => {
          if (!(await isInRecovery(pg))) throw new Error('it is not in recovery, so not a streaming replica');
          return systemIdentifier(pg);
        });
        if (replicaId !== primaryId) throw platformErrors.clusterUnreachable('replica_url', 'it is a replica of another cluster');
      }
      await prepareTemplate(c.admin_url, d.templateName, (why) => d.log.warn({ cluster: c.id }, why));
      const created = await d.clusters.register({
        id: c.id, adminUrlEnc: d.secrets.encrypt(c.admin_url), replicaUrlEnc: c.replica_url ? d.secrets.encrypt(c.replica_url) : null,
        acceptsNewProjects: c.accepts_new_projects ?? true,
      });
      // projects already there pick up the new connection or replica
      await Promise.all((await d.clusters.projectsOn(c.id)).map((ref) => d.registry.invalidate(ref)));
      const record = (await d.clusters.get(c.id))!;
      return { created, cluster: view(record, (await d.clusters.projectsOn(c.id)).length) };
    },

    async remove(id: string) {
      if (!(await d.clusters.get(id))) throw platformErrors.clusterNotFound(id);
      if ((await d.clusters.projectsOn(id)).length > 0) throw platformErrors.clusterInUse(id);
      await d.clusters.remove(id);
    },

    /** Moves the project's database to `target`; resolves once it serves from there. */
    async move(ref: string, target: string) {
      const p = await d.projects.find(ref);
      if (!p || p.status !== 'active') throw platformErrors.projectNotFound(ref);
      const to = await d.clusters.get(target);
      if (!to) throw platformErrors.clusterNotFound(target);
      if (p.cluster_id === target) return { ref, cluster: target, moved: false, read_only_ms: 0 };
      const from = (await d.clusters.get(p.cluster_id))!;
      const fromUrl = d.secrets.decrypt(from.admin_url_enc);
      const toUrl = d.secrets.decrypt(to.admin_url_enc);
      const [a, b] = await Promise.all([reach(fromUrl, p.cluster_id, systemIdentifier), reach(toUrl, target, systemIdentifier)]);
      if (a === b) throw platformErrors.sameCluster(p.cluster_id, target);
      if (!(await d.placement.claimMove(ref, target))) throw platformErrors.moveInProgress(ref);
      const started = performance.now();
      const id = randomUUID();
      let created = false;
      try {
        d.log.info({ ref, from: p.cluster_id, to: target, move: id }, 'project move started');
        await onCluster(fromUrl, (c) => setDatabaseReadOnly(c, p.db_name, true));
        await d.registry.invalidate(ref);
        // an empty database with the project's login, grants and locale; the dump brings schemas, data, ACLs
        const locale = await onCluster(fromUrl, (c) => databaseLocale(c, p.db_name));
        await createTenantDatabase(toUrl, locale, { dbName: p.db_name, dbRole: p.db_role, password: d.secrets.decrypt(p.db_password_enc), connectionLimit: d.connectionLimit });
        created = true;
        const dump = runPgTool(d.pgBin, 'pg_dump', onDb(fromUrl, p.db_name), ['--format=custom']);
        const restore = runPgTool(d.pgBin, 'pg_restore', onDb(toUrl, p.db_name), ['--exit-on-error', '--single-transaction']);
        await Promise.all([dump.done, feedPgTool(restore, dump.stdout)]).catch((e: Error) => {
          dump.kill();
          restore.kill();
          throw e;
        });
        await d.placement.switchCluster(ref, target);
      } catch (e) {
        d.log.warn({ ref, to: target, move: id, err: (e as Error).message }, 'project move failed; undone');
        if (created) await dropTenantDatabase(toUrl, p.db_name, p.db_role).catch(() => undefined);
        await onCluster(fromUrl, (c) => setDatabaseReadOnly(c, p.db_name, false)).catch(() => undefined);
        await d.placement.releaseMove(ref);
        await d.registry.invalidate(ref);
        throw platformErrors.moveFailed(ref, (e as Error).message);
      }
      await d.registry.invalidate(ref);
      const readOnlyMs = Math.round(performance.now() - started);
      await d.applyPlan(ref).catch((err: Error) => d.log.warn({ ref, err: err.message }, 'plan not re-applied after move'));
      await dropTenantDatabase(fromUrl, p.db_name, p.db_role)
        .catch((err: Error) => d.log.warn({ ref, cluster: p.cluster_id, err: err.message }, 'old database of a moved project not dropped'));
      d.log.info({ ref, from: p.cluster_id, to: target, move: id, read_only_ms: readOnlyMs }, 'project moved');
      return { ref, cluster: target, moved: true, read_only_ms: readOnlyMs };
    },
  };
}

export type PlacementDomain = ReturnType<typeof placementDomain>;
