// The levels metering cannot count as they happen: each project's database size and stored object bytes, sampled
// and recorded as the hour's peak (db_bytes, storage_bytes). One platform replica samples per interval (a Redis
// lease, as storage's orphan sweeper takes); it samples the projects whose metered requests changed since its
// last look, and every project once an hour, so an idle project costs one look an hour.
import pg from 'pg';
import type { Redis } from 'ioredis';
import type { SecretBox } from '@basalt/crypto';
import type { Logger } from '@basalt/http';
import { pruneFlushRecords, type Meter } from '@basalt/metering';
import type { ProjectRegistry } from '@basalt/tenancy';
import { databaseSizes, storedBytes, usageDb } from '../db/usage.js';
import { withProjectDb } from '../domain/sql.js';

const HOUR = 3_600_000;
const STORAGE_CONCURRENCY = 4;

export interface UsageSamplerDeps {
  control: pg.Pool;
  redis: Redis;
  redisPrefix: string;
  registry: ProjectRegistry;
  secrets: SecretBox;
  meter: Meter;
  log: Logger;
}

export function usageSampler(d: UsageSamplerDeps) {
  const db = usageDb(d.control);
  /** requests metered per project when this replica last sampled it */
  let seen = new Map<string, number>();

  async function sampleSizes(targets: { ref: string; db_name: string; cluster_id: string; admin_url_enc: string }[]): Promise<void> {
    const byCluster = new Map<string, typeof targets>();
    for (const t of targets) byCluster.set(t.cluster_id, [...(byCluster.get(t.cluster_id) ?? []), t]);
    for (const group of byCluster.values()) {
      const admin = new pg.Client({ connectionString: d.secrets.decrypt(group[0].admin_url_enc), connectionTimeoutMillis: 5_000 });
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        const sizes = await databaseSizes(admin, group.map((t) => t.db_name));
        for (const t of group) {
          const size = sizes.get(t.db_name);
          if (size !== undefined) d.meter.peak(t.ref, 'database', 'db_bytes', size);
        }
      } finally {
        await admin.end().catch(() => undefined);
      }
    }
  }

  async function sampleStorage(refs: string[]): Promise<void> {
    const queue = [...refs];
    const worker = async () => {
      for (let ref = queue.shift(); ref !== undefined; ref = queue.shift()) {
        const project = await d.registry.get(ref).catch(() => null);
        if (!project) continue;
        const bytes = await withProjectDb(project, { timeoutMs: 10_000, readOnly: true }, storedBytes)
          .catch((err: Error) => void d.log.debug({ ref, err: err.message }, 'stored bytes not sampled'));
        if (bytes !== undefined) d.meter.peak(ref, 'storage', 'storage_bytes', bytes);
      }
    };
    await Promise.all(Array.from({ length: STORAGE_CONCURRENCY }, worker));
  }

  /** One round: returns how many projects were sampled. */
  async function sample(): Promise<number> {
    const sweepKey = `${d.redisPrefix}metering:swept:${Math.floor(Date.now() / HOUR)}`;
    const sweep = (await d.redis.get(sweepKey)) === null;
    const recent = await db.recentRequests();
    const changed = [...recent].filter(([ref, n]) => seen.get(ref) !== n).map(([ref]) => ref);
    if (!sweep && changed.length === 0) return 0;
    const targets = await db.placements(sweep ? null : changed);
    await sampleSizes(targets);
    await sampleStorage(targets.map((t) => t.ref));
    await d.meter.flush();
    seen = sweep ? new Map(recent) : new Map([...seen, ...changed.map((ref) => [ref, recent.get(ref)!] as const)]);
    if (sweep) {
      await d.redis.set(sweepKey, '1', 'PX', 2 * HOUR);
      await pruneFlushRecords(d.control);
    }
    return targets.length;
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  return {
    sample,
    start(intervalMs: number) {
      timer = setInterval(() => {
        if (running) return;
        running = (async () => {
          const won = await d.redis.set(`${d.redisPrefix}metering:sampler`, '1', 'PX', intervalMs, 'NX').catch(() => null);
          if (won === 'OK') await sample();
        })()
          .catch((err: Error) => d.log.warn({ err: err.message }, 'usage sampling failed'))
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
