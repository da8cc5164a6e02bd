// The scheduler loop: every tick, claim the jobs due within the next two ticks in one transaction (row locks,
// SKIP LOCKED, so replicas split the work and a slot is claimed once), record one run per slot, advance each job
// to its next slot after that one (or after now, for a slot already missed), commit, then hand the runs to the
// `cron-runs` queue at their slot. Claiming ahead, as Quartz acquires triggers ahead of their fire time, takes the
// claim off the runs' start time: a second's thousand runs take 100-250 ms to claim on a busy two-core machine,
// and a slow claim made a whole second of runs that late. A sweep re-enqueues runs that never reached a worker.
import type pg from 'pg';
import type { Queue } from '@basalt/queue';
import type { Logger } from '@basalt/http';
import { withTransaction } from '@basalt/db';
import { anyDue, lockDueJobs, orphanedRuns, recordRuns, type RecordedRun } from '../db/claims.js';
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
  /** settles runs left `running` (./settle.ts): runs this long after they started, and past timeout + grace */
  settle: (olderThanMs: number, graceMs: number) => Promise<{ succeeded: number; timedOut: number }>;
}

export async function claimDueRuns(control: pg.Pool, batch: number, aheadMs: number): Promise<RecordedRun[]> {
  // Most ticks of a quiet scheduler find nothing due: one statement then, not begin, lock and commit. Those three
  // round trips, five times a second, were most of what an idle scheduler cost (11 ms of CPU a second).
  if (!(await anyDue(control, aheadMs))) return [];
  return withTransaction(control, async (client) => {
    const due = await lockDueJobs(client, batch, aheadMs);
    if (due.length === 0) return [];
    const now = new Date();
    return recordRuns(
      client,
      due.map((j) => j.id),
      due.map((j) => j.next_run_at),
      // a slot still ahead is followed by the one after it; a missed one by the first after now
      due.map((j) => nextSlot(j.schedule, j.next_run_at > now ? j.next_run_at : now)),
    );
  });
}

/** Runs by their slot (ms since the epoch). */
function bySlot(runs: RecordedRun[]): Map<number, string[]> {
  const slots = new Map<number, string[]>();
  for (const r of runs) {
    const at = r.scheduled_at.getTime();
    const ids = slots.get(at);
    if (ids) ids.push(r.id);
    else slots.set(at, [r.id]);
  }
  return slots;
}

async function enqueue(queue: Queue<RunMessage>, runIds: string[]): Promise<void> {
  if (runIds.length === 0) return;
  const batches: string[][] = [];
  for (let i = 0; i < runIds.length; i += BATCH) batches.push(runIds.slice(i, i + BATCH));
  // A run enqueued twice (the sweep after a slow enqueue) is harmless: only one worker can start it. So messages
  // take BullMQ's own ids: ids made from run ids repeat once the control database's run ids do (a restore, a new
  // database on the same Redis), and BullMQ silently drops a message whose id a kept completed job still holds.
  await queue.addBulk(batches.map((ids) => ({ name: 'runs', data: { runIds: ids } })));
}

export function startTicking(o: TickOptions): { stop: () => Promise<void> } {
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  let lastSweep = 0;
  let settling: Promise<void> | undefined;
  /** enqueues waiting for their slot: stop() lets them go out rather than leave their runs to the sweep */
  const waiting = new Set<Promise<void>>();

  const send = (runIds: string[]) =>
    enqueue(o.queue, runIds).catch((err) => o.log.warn({ err: err.message, runs: runIds.length }, 'enqueue failed; the sweep retries'));

  /** Hands each slot's runs to the queue at that slot: a timer here, not the queue's own delay, which Redis
   * releases on its 100 ms clock (hz 10), 80 ms late on average. */
  const release = async (runs: RecordedRun[]) => {
    const now = Date.now();
    // runs already due go out together, BATCH to a message, whatever their slots (a catch-up has many)
    const due: string[] = [];
    for (const [at, ids] of bySlot(runs)) {
      if (at <= now) {
        due.push(...ids);
        continue;
      }
      // +1: a timer may fire a fraction of a millisecond early by Date.now()
      const sent: Promise<void> = new Promise<void>((r) => setTimeout(r, at - now + 1)).then(() => send(ids)).finally(() => waiting.delete(sent));
      waiting.add(sent);
    }
    await send(due);
  };

  const tick = async () => {
    try {
      let runs: RecordedRun[];
      do {
        runs = await claimDueRuns(o.control, o.batch, 2 * o.tickMs);
        await release(runs);
      } while (runs.length === o.batch && !stopped);
      if (Date.now() - lastSweep > 5_000) {
        lastSweep = Date.now();
        await send(await orphanedRuns(o.control, 3_000));
        // apart from the ticks: it reads project databases, and a slow one must not make every project's runs late
        settling ??= o.settle(3_000, 30_000)
          .then(({ succeeded, timedOut }) => {
            if (succeeded + timedOut > 0) o.log.warn({ succeeded, timedOut }, 'runs whose worker stopped were settled');
          })
          .catch((err) => o.log.error({ err }, 'settling stranded runs failed'))
          .finally(() => (settling = undefined));
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
      await settling;
      // their slots are at most two ticks away: wait for them, so the runs start on time and not at the next sweep
      await Promise.all(waiting);
    },
  };
}
