// The scheduler loop: every tick, claim due jobs in one transaction (row locks, SKIP LOCKED, so replicas split
// the work and a slot is claimed once), record one run per slot, advance each job to its next slot after now,
// commit, then hand the runs to the `cron-runs` queue. A sweep re-enqueues runs that never reached a worker.
import type pg from 'pg';
import type { Queue } from '@basalt/queue';
import type { Logger } from '@basalt/http';
import { withTransaction } from '@basalt/db';
import { expireStaleRuns, lockDueJobs, orphanedRuns, recordRuns } from '../db/claims.js';
import { nextSlot } from '../domain/crontab.js';

/** One queue message carries the runs of one tick (up to BATCH), so queue overhead is paid per batch, not per run. */
export interface RunMessage {
  runIds: string[];
}

// A message costs two control statements (start, finish) and two queue round trips whatever its size; 125 puts a
// claim of 500 in four messages, so a second of 1,000 runs is eight: one round of the workers, not three of 50.
const BATCH = 125;

export interface TickOptions {
  control: pg.Pool;
  queue: Queue<RunMessage>;
  log: Logger;
  tickMs: number;
  batch: number;
}

export async function claimDueRuns(control: pg.Pool, batch: number): Promise<string[]> {
  return withTransaction(control, async (client) => {
    const due = await lockDueJobs(client, batch);
    if (due.length === 0) return [];
    const now = new Date();
    return recordRuns(
      client,
      due.map((j) => j.id),
      due.map((j) => j.next_run_at),
      due.map((j) => nextSlot(j.schedule, now)),
    );
  });
}

async function enqueue(queue: Queue<RunMessage>, runIds: string[]): Promise<void> {
  if (runIds.length === 0) return;
  const batches: string[][] = [];
  for (let i = 0; i < runIds.length; i += BATCH) batches.push(runIds.slice(i, i + BATCH));
  // A run enqueued twice (the sweep after a slow enqueue) is harmless: only one worker can start it.
  await queue.addBulk(batches.map((ids) => ({ name: 'runs', data: { runIds: ids }, opts: { jobId: `runs-${ids[0]}-${ids.length}` } })));
}

export function startTicking(o: TickOptions): { stop: () => Promise<void> } {
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  let lastSweep = 0;

  const tick = async () => {
    try {
      let runIds: string[];
      do {
        runIds = await claimDueRuns(o.control, o.batch);
        await enqueue(o.queue, runIds).catch((err) => o.log.warn({ err: err.message, runs: runIds.length }, 'enqueue failed; the sweep retries'));
      } while (runIds.length === o.batch && !stopped);
      if (Date.now() - lastSweep > 5_000) {
        lastSweep = Date.now();
        await enqueue(o.queue, await orphanedRuns(o.control, 3_000));
        const expired = await expireStaleRuns(o.control, 30_000);
        if (expired) o.log.warn({ expired }, 'runs whose worker stopped were marked timed_out');
      }
    } catch (err) {
      o.log.error({ err }, 'scheduler tick failed');
    }
  };

  const loop = () => {
    if (stopped) return;
    // Align ticks to the wall clock so second-granularity jobs are claimed soon after their slot.
    const delay = o.tickMs - (Date.now() % o.tickMs);
    setTimeout(() => {
      current = tick().finally(loop);
    }, delay);
  };
  loop();
  return {
    stop: async () => {
      stopped = true;
      await current;
    },
  };
}
