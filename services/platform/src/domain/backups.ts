// Backups of a project and restores from them: the API's rules (one job per project at a time, a backup is
// restored only when done, a restore into another project needs access to it) and the jobs, which run in the
// background on the replica that accepted them, a few at a time, beating a heartbeat while they work.
import type { SecretBox } from '@basalt/crypto';
import type { Logger } from '@basalt/http';
import { createObjectStore, type ObjectStore } from '@basalt/object-store';
import { canAccessProject, type PlatformPrincipal, type ProjectRegistry } from '@basalt/tenancy';
import type { Deps } from '../app.js';
import { pgBinDir } from '../clients/pg-tools.js';
import { backupsDb, type BackupRecord, type BackupsDb, type ClaimRefusal, type RestoreRecord } from '../db/backups.js';
import { clustersDb, type ClustersDb } from '../db/clusters.js';
import { projectsDb, type ProjectsDb } from '../db/projects.js';
import { backupSchedule } from '../jobs/backup-schedule.js';
import { platformErrors } from '../errors.js';
import { dumpProject, type ProjectDatabase } from './backup-dump.js';
import { backupPrefix, readManifest } from './backup-files.js';
import { restoreProject } from './backup-restore.js';
import { activeProject } from './projects.js';

export interface BackupsDeps {
  db: BackupsDb;
  projects: ProjectsDb;
  clusters: ClustersDb;
  secrets: SecretBox;
  registry: ProjectRegistry;
  /** the object store, opened on first use */
  store: () => Promise<ObjectStore>;
  pgBin: string;
  /** jobs this replica runs at once */
  concurrency: number;
  heartbeatMs: number;
  log: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const num = (v: string | number | null) => (v === null ? null : Number(v));

export const backupView = (b: BackupRecord) => ({
  id: b.id, ref: b.ref, kind: b.kind, status: b.status,
  db_bytes: num(b.db_bytes), object_bytes: num(b.object_bytes), object_count: b.object_count,
  location: b.status === 'done' ? b.location : null, error: b.error,
  created_at: b.created_at.toISOString(), started_at: b.started_at?.toISOString() ?? null, finished_at: b.finished_at?.toISOString() ?? null,
});

const restoreView = (r: RestoreRecord, sourceRef: string) => ({
  id: r.id, backup_id: r.backup_id, source_ref: sourceRef, target_ref: r.target_ref, status: r.status, error: r.error,
  created_at: r.created_at.toISOString(), finished_at: r.finished_at?.toISOString() ?? null,
});

/** a job's failure as stored and shown: the first lines of the reason, no stack */
const reason = (e: unknown) => String((e as Error)?.message ?? e).slice(0, 2000);

export function backupsDomain(d: BackupsDeps) {
  const running = new Map<string, { kind: 'backup' | 'restore'; abort: AbortController; done: Promise<void> }>();
  const queue: { id: string; kind: 'backup' | 'restore'; run: (signal: AbortSignal) => Promise<void> }[] = [];
  let stopped = false;

  const beat = setInterval(() => {
    const ids = (k: 'backup' | 'restore') => [...running.entries(), ...queue.map((q) => [q.id, q] as const)].filter(([, j]) => j.kind === k).map(([id]) => id);
    d.db.heartbeat(ids('backup'), ids('restore')).catch((err: Error) => d.log.warn({ err: err.message }, 'backup heartbeat failed'));
  }, d.heartbeatMs);
  beat.unref();

  function pump(): void {
    while (!stopped && running.size < d.concurrency && queue.length) {
      const job = queue.shift()!;
      const abort = new AbortController();
      const done = job.run(abort.signal)
        .catch((err: Error) => d.log.error({ id: job.id, kind: job.kind, err: err.message }, 'backup job failed to record its outcome'))
        .finally(() => {
          running.delete(job.id);
          pump();
        });
      running.set(job.id, { kind: job.kind, abort, done });
    }
  }

  async function locate(ref: string): Promise<ProjectDatabase> {
    const p = await d.projects.find(ref);
    const cluster = p && p.status === 'active' ? await d.clusters.get(p.cluster_id) : null;
    if (!p || !cluster) throw new Error(`project ${ref} is gone`);
    const adminUrl = Object.assign(new URL(d.secrets.decrypt(cluster.admin_url_enc)), { pathname: `/${p.db_name}` }).toString();
    return { ref, dbName: p.db_name, dbRole: p.db_role, adminUrl };
  }

  async function runBackup(b: BackupRecord, signal: AbortSignal): Promise<void> {
    const location = backupPrefix(b.ref, b.id);
    let store: ObjectStore | null = null;
    try {
      store = await d.store();
      await d.db.startBackup(b.id, location);
      const sizes = await dumpProject({ store, pgBin: d.pgBin }, await locate(b.ref), b.id, signal);
      await d.db.finishBackup(b.id, sizes);
      d.log.info({ ref: b.ref, id: b.id, kind: b.kind, ...sizes }, 'backup done');
    } catch (e) {
      d.log.warn({ ref: b.ref, id: b.id, err: reason(e) }, 'backup failed');
      await d.db.failBackup(b.id, signal.aborted ? 'interrupted: the platform service stopped' : reason(e));
      await store?.removePrefix(location).catch(() => undefined);
    }
  }

  async function runRestore(r: RestoreRecord, b: BackupRecord, signal: AbortSignal): Promise<void> {
    let error: string | null = null;
    try {
      await d.db.startRestore(r.id);
      const store = await d.store();
      const manifest = await readManifest(store, b.ref, b.id);
      if (!manifest) throw new Error('the backup\'s files are gone from the object store');
      await restoreProject({ store, pgBin: d.pgBin }, manifest, await locate(r.target_ref), signal);
      d.log.info({ ref: b.ref, backup: b.id, target: r.target_ref }, 'backup restored');
    } catch (e) {
      error = signal.aborted ? 'interrupted: the platform service stopped' : reason(e);
      d.log.warn({ ref: b.ref, backup: b.id, target: r.target_ref, err: error }, 'restore failed');
    }
    // every service drops what it holds of the target (pools, schema caches): its database may be a new one
    await d.registry.invalidate(r.target_ref).catch(() => undefined);
    await d.db.finishRestore(r.id, error);
  }

  const refused = (ref: string, why: ClaimRefusal) =>
    why === 'busy' ? platformErrors.backupBusy(ref) : platformErrors.projectNotFound(ref);

  async function mustFind(ref: string, id: string): Promise<BackupRecord> {
    const b = UUID.test(id) ? await d.db.find(ref, id) : null;
    if (!b) throw platformErrors.backupNotFound(id);
    return b;
  }

  return {
    /** Starts a backup of the project; refused while another backup of it or a restore into it is under way. */
    async create(ref: string, kind: BackupRecord['kind'] = 'manual') {
      if (stopped) throw platformErrors.backupsStopping();
      await activeProject(d.registry, ref);
      const b = await d.db.claimBackup(ref, kind);
      if (typeof b === 'string') throw refused(ref, b);
      queue.push({ id: b.id, kind: 'backup', run: (signal) => runBackup(b, signal) });
      pump();
      return backupView(b);
    },
    async list(ref: string) {
      await activeProject(d.registry, ref);
      return (await d.db.list(ref)).map(backupView);
    },
    async get(ref: string, id: string) {
      await activeProject(d.registry, ref);
      return backupView(await mustFind(ref, id));
    },
    /** Restores a finished backup of `ref` into `targetRef` (default: the same project), replacing its data. */
    async restore(principal: PlatformPrincipal, ref: string, id: string, targetRef: string | undefined) {
      if (stopped) throw platformErrors.backupsStopping();
      await activeProject(d.registry, ref);
      const b = await mustFind(ref, id);
      if (b.status !== 'done') throw platformErrors.backupNotReady(id, b.status);
      const target = targetRef ?? ref;
      if (!canAccessProject(principal, target)) throw platformErrors.forbiddenProject(target);
      const r = await d.db.claimRestore(b.id, target);
      if (typeof r === 'string') throw refused(target, r);
      queue.push({ id: r.id, kind: 'restore', run: (signal) => runRestore(r, b, signal) });
      pump();
      return restoreView(r, ref);
    },
    async getRestore(ref: string, id: string, restoreId: string) {
      const b = await mustFind(ref, id);
      const r = UUID.test(restoreId) ? await d.db.findRestore(b.id, restoreId) : null;
      if (!r) throw platformErrors.restoreNotFound(restoreId);
      return restoreView(r, ref);
    },
    /** Interrupts this replica's jobs: running ones record the interruption, queued ones are failed. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(beat);
      for (const q of queue.splice(0)) {
        if (q.kind === 'backup') await d.db.failBackup(q.id, 'interrupted: the platform service stopped').catch(() => undefined);
        else await d.db.finishRestore(q.id, 'interrupted: the platform service stopped').catch(() => undefined);
      }
      for (const j of running.values()) j.abort.abort();
      await Promise.all([...running.values()].map((j) => j.done));
    },
  };
}

export type BackupsDomain = ReturnType<typeof backupsDomain>;

/** The backups domain and its schedule, built from the platform app's dependencies. */
export function backupsFor(deps: Pick<Deps, 'config' | 'control' | 'redis' | 'registry' | 'secrets' | 'log'>) {
  const c = deps.config;
  let opened: Promise<ObjectStore> | null = null;
  const store = () => (opened ??= createObjectStore(c).catch((e: unknown) => {
    opened = null; // a store that could not be reached is tried again next time
    throw e;
  }));
  const db = backupsDb(deps.control);
  const heartbeatMs = 15_000;
  const domain = backupsDomain({
    db, projects: projectsDb(deps.control), clusters: clustersDb(deps.control), secrets: deps.secrets, registry: deps.registry,
    store, pgBin: pgBinDir(c.BACKUP_PG_BIN_DIR), concurrency: c.BACKUP_CONCURRENCY, heartbeatMs, log: deps.log,
  });
  const schedule = backupSchedule({
    db, backups: domain, registry: deps.registry, store, redis: deps.redis, redisPrefix: c.BASALT_REDIS_PREFIX,
    nightlyHourUtc: c.BACKUP_NIGHTLY_HOUR_UTC, defaultRetentionDays: c.BACKUP_RETENTION_DAYS, staleMs: heartbeatMs * 6, log: deps.log,
  });
  return {
    domain,
    schedule,
    start: () => schedule.start(c.BACKUP_SCHEDULE_INTERVAL_MS),
    async stop() {
      await schedule.stop();
      await domain.stop();
    },
  };
}
