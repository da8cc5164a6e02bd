// Nightly backups and retention. Every interval one replica (a Redis lease, as storage's orphan sweeper) fails the
// jobs whose replica stopped beating, starts a nightly backup of every project without one since the last backup
// hour, and deletes backups past their project's retention (the plan's backup_retention_days, else the default)
// or whose project is gone, files first. Each step is idempotent, so two replicas overlapping does no harm.
import type { Redis } from 'ioredis';
import type { Logger } from '@basalt/http';
import type { ObjectStore } from '@basalt/object-store';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { BackupsDb } from '../db/backups.js';
import type { BackupsDomain } from '../domain/backups.js';

export interface BackupScheduleDeps {
  db: BackupsDb;
  backups: BackupsDomain;
  registry: ProjectRegistry;
  store: () => Promise<ObjectStore>;
  redis: Redis;
  redisPrefix: string;
  /** the UTC hour nightly backups start at; null: no nightly backups (retention still applies) */
  nightlyHourUtc: number | null;
  defaultRetentionDays: number;
  /** a job whose heartbeat is older than this is taken for abandoned */
  staleMs: number;
  log: Logger;
}

const DAY_MS = 86_400_000;

/** The latest start of the backup hour at or before now. */
export function lastBackupHour(now: Date, hour: number): Date {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour));
  return at.getTime() <= now.getTime() ? at : new Date(at.getTime() - DAY_MS);
}

export function backupSchedule(d: BackupScheduleDeps) {
  async function retentionDays(ref: string): Promise<number> {
    const p = (await d.registry.get(ref)) as { quotas?: { backup_retention_days?: number | null } } | null;
    return p?.quotas?.backup_retention_days ?? d.defaultRetentionDays;
  }

  /** Fails abandoned jobs (their partial files go too). */
  async function failAbandoned(): Promise<void> {
    const { backups, restores } = await d.db.failAbandoned(d.staleMs);
    const store = await d.store();
    for (const b of backups) if (b.location) await store.removePrefix(b.location).catch(() => undefined);
    if (backups.length || restores) d.log.warn({ backups: backups.length, restores }, 'failed backup jobs whose replica stopped');
  }

  /** Starts the nightly backup of every project (or of `only`) that has none since the last backup hour. */
  async function startNightly(now: Date, only?: string[]): Promise<number> {
    if (d.nightlyHourUtc === null) return 0;
    let started = 0;
    for (const ref of await d.db.dueForNightly(lastBackupHour(now, d.nightlyHourUtc))) {
      if (only && !only.includes(ref)) continue;
      // a project busy with another job, or deleted meanwhile, is tried again at the next tick
      await d.backups.create(ref, 'nightly').then(() => started++, () => undefined);
    }
    return started;
  }

  /** Deletes backups past retention or whose project is gone; returns how many. */
  async function prune(now: Date): Promise<number> {
    const store = await d.store();
    let removed = 0;
    for (const b of await d.db.finished()) {
      const expired = !b.project_exists || b.created_at.getTime() < now.getTime() - (await retentionDays(b.ref)) * DAY_MS;
      if (!expired) continue;
      if (b.location) await store.removePrefix(b.location);
      await d.db.remove(b.id);
      removed++;
    }
    return removed;
  }

  async function tick(now = new Date()): Promise<void> {
    await failAbandoned();
    const started = await startNightly(now);
    const removed = await prune(now);
    if (started || removed) d.log.info({ started, removed }, 'backup schedule');
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  return {
    failAbandoned, startNightly, prune, tick,
    start(intervalMs: number) {
      timer = setInterval(() => {
        if (running) return;
        running = (async () => {
          const won = await d.redis.set(`${d.redisPrefix}platform:backup-schedule`, '1', 'PX', intervalMs, 'NX').catch(() => null);
          if (won === 'OK') await tick();
        })()
          .catch((err: Error) => d.log.warn({ err: err.message }, 'backup schedule failed'))
          .finally(() => (running = null));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

export type BackupSchedule = ReturnType<typeof backupSchedule>;
