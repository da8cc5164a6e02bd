// Log-like tables (cron runs, function invocations, and every such table to come) grow with use; this keeps each
// bounded by age and by a row count per owner (a project, a job), deleting a small batch at a time on a timer so
// no statement holds locks for long and no request ever waits for it.
import type pg from 'pg';
import { ident } from './pool.js';

export interface HistoryTable {
  /** schema-qualified table, e.g. platform.cron_runs */
  table: string;
  /** the column a count limit applies to: rows beyond `keep` per value of it go, oldest first */
  per: string;
  /** timestamp column the age limit reads */
  time: string;
  /** unique key that grows with insertion: the newest rows have the largest */
  key: string;
  maxAgeMs: number;
  keep: number;
}

export interface PruneOptions {
  batch?: number;
  /** pause between batches, so pruning never hogs the database */
  pauseMs?: number;
}

const qualified = (name: string) => name.split('.').map(ident).join('.');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deletes what is too old, then what is beyond `keep` per owner; returns the number of rows removed. */
export async function pruneHistory(pool: pg.Pool, t: HistoryTable, opts: PruneOptions = {}): Promise<number> {
  const batch = opts.batch ?? 500;
  const pause = opts.pauseMs ?? 20;
  const [table, per, time, key] = [qualified(t.table), ident(t.per), ident(t.time), ident(t.key)];
  let removed = 0;
  const drain = async (sql: string, params: unknown[]) => {
    for (;;) {
      const { rowCount } = await pool.query(sql, params);
      removed += rowCount ?? 0;
      if ((rowCount ?? 0) < batch) return;
      await sleep(pause);
    }
  };
  await drain(
    `delete from ${table} where ${key} in (select ${key} from ${table} where ${time} < now() - make_interval(secs => $1) limit $2)`,
    [t.maxAgeMs / 1000, batch],
  );
  const { rows: over } = await pool.query<{ owner: unknown }>(
    `select ${per} as owner from ${table} group by ${per} having count(*) > $1 limit 1000`, [t.keep],
  );
  for (const { owner } of over) {
    await drain(
      `delete from ${table} where ${key} in (select ${key} from ${table} where ${per} = $1 order by ${key} desc offset $2 limit $3)`,
      [owner, t.keep, batch],
    );
  }
  return removed;
}

export interface HistoryPruner {
  stop: () => Promise<void>;
}

/**
 * Prunes every table once per interval. Replicas may prune at the same time: the deletes are idempotent and
 * touch different small batches, so at worst a batch finds its rows already gone.
 */
export function startHistoryPruner(
  pool: pg.Pool,
  tables: HistoryTable[],
  opts: PruneOptions & { intervalMs: number; onError: (err: Error, table: string) => void },
): HistoryPruner {
  let running: Promise<void> | null = null;
  const tick = () => {
    running ??= (async () => {
      for (const t of tables) await pruneHistory(pool, t, opts).catch((e: Error) => opts.onError(e, t.table));
    })().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
