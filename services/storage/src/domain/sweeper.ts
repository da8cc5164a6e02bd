// Stored bytes no row points at any more — left by a crash between writing an object and committing its row,
// or by a removal that failed — are found by walking the backend and removed once they are old enough that no
// write in flight can still claim them. One replica sweeps at a time (a Redis lease).
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { Backend } from '../backend/index.js';
import { projectTx, SERVICE } from '../db/tx.js';

const KEY = /^([a-z]{20})\/(o|a|r)\/([0-9a-f]{32,64})$/;
const BATCH = 1000;

export interface SweeperDeps {
  backend: Backend;
  control: pg.Pool;
  registry: ProjectRegistry;
  pools: ProjectPools;
  redis: Redis;
  redisPrefix: string;
  log: Logger;
  /** bytes younger than this are never touched */
  minAgeMs: number;
}

export function orphanSweeper(d: SweeperDeps) {
  /** o: object versions, a: asset blobs, r: rendered variants (<version><variant>, live while their version is) */
  async function settle(ref: string, kind: 'o' | 'a' | 'r', ids: string[]): Promise<number> {
    let known: Set<string>;
    if (kind === 'a') {
      const { rows } = await d.control.query<{ sha256: string }>('select sha256 from platform.assets where ref = $1 and sha256 = any($2::text[])', [ref, ids]);
      known = new Set(rows.map((r) => r.sha256));
    } else {
      const project = await d.registry.get(ref);
      if (!project) {
        const exists = await d.registry.exists(ref);
        if (!exists) await d.backend.removePrefix(ref); // the project is gone: all of its bytes go
        return exists ? 0 : ids.length;
      }
      const versionOf = (id: string) => (kind === 'r' ? id.slice(0, 32) : id);
      const rows = await projectTx(d.pools, project)(SERVICE, async (c) => {
        // resumable uploads idle for a day are given up; younger ones keep their bytes (S3 multipart parts stay
        // until their upload is completed or aborted, as S3 keeps them)
        await c.query(`delete from storage.resumable_uploads where version = any($1::text[]) and updated_at < now() - interval '24 hours'`, [ids.map(versionOf)]);
        return (await c.query<{ version: string }>(
          `select version from storage.objects where version = any($1::text[])
           union all select version from storage.resumable_uploads where version = any($1::text[])
           union all select version from storage.s3_multipart_uploads_parts where version = any($1::text[])`, [ids.map(versionOf)])).rows;
      });
      const live = new Set(rows.map((r) => r.version));
      known = new Set(ids.filter((id) => live.has(versionOf(id))));
    }
    const orphans = ids.filter((id) => !known.has(id));
    if (orphans.length) await d.backend.remove(orphans.map((id) => `${ref}/${kind}/${id}`));
    return orphans.length;
  }

  async function sweep(): Promise<number> {
    const cutoff = Date.now() - d.minAgeMs;
    const pending = new Map<string, string[]>();
    // what a process killed mid-write left staged (a TUS chunk, a shared blob) is nobody's
    let removed = await d.backend.removeStaged(cutoff).catch((err: Error) => {
      d.log.warn({ err: err.message }, 'removing stale staged files failed');
      return 0;
    });
    const flush = async (group: string) => {
      const ids = pending.get(group)!;
      pending.delete(group);
      const [ref, kind] = group.split('/');
      removed += await settle(ref, kind as 'o' | 'a' | 'r', ids).catch((err: Error) => {
        d.log.warn({ ref, err: err.message }, 'orphan sweep of a project failed');
        return 0;
      });
    };
    for await (const { key, modified } of d.backend.list('')) {
      if (modified.getTime() > cutoff) continue;
      const m = KEY.exec(key);
      if (!m) continue;
      const group = `${m[1]}/${m[2]}`;
      const ids = pending.get(group) ?? [];
      ids.push(m[3]);
      pending.set(group, ids);
      if (ids.length >= BATCH) await flush(group);
    }
    for (const group of [...pending.keys()]) await flush(group);
    return removed;
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  return {
    sweep,
    start(intervalMs: number) {
      timer = setInterval(() => {
        if (running) return;
        running = (async () => {
          // one sweep per interval across replicas; an overlap after a long sweep is harmless (removals are idempotent)
          const won = await d.redis.set(`${d.redisPrefix}storage:orphan-sweep:${d.backend.kind}`, '1', 'PX', intervalMs, 'NX').catch(() => null);
          if (won !== 'OK') return;
          const removed = await sweep();
          if (removed) d.log.info({ removed }, 'removed orphaned stored bytes');
        })()
          .catch((err: Error) => d.log.warn({ err: err.message }, 'orphan sweep failed'))
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
