// Deletes expired documents of TTL indexes, every DOCUMENTS_TTL_INTERVAL_MS, in the projects that have one.
import { asCaller, type ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { ControlDb } from '../db/control.js';
import { sweepTtl } from '../engine/indexes.js';

export function startTtlSweeper(o: { db: ControlDb; registry: ProjectRegistry; pools: ProjectPools; log: Logger; intervalMs: number }) {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      for (const ref of await o.db.ttlProjects()) {
        const project = await o.registry.get(ref);
        if (!project) continue;
        const n = await asCaller(o.pools.get(project), { role: 'basalt_admin', claims: {} }, (tx) => sweepTtl(tx))
          .catch((err: Error) => (o.log.warn({ ref, err: err.message }, 'ttl sweep failed'), 0));
        if (n) o.log.debug({ ref, deleted: n }, 'ttl sweep');
      }
    } catch (err) {
      o.log.warn({ err: (err as Error).message }, 'ttl sweep failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), tick };
}
