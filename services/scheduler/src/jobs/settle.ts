// Settles runs a stopped worker left `running`. A database function's run that wrote writes its receipt in the same
// transaction (db-function-trips.ts), so its effect committed exactly when the receipt is in the project's database:
// such a run is recorded as succeeded, whenever the sweep finds it. One without a receipt is timed_out once it is
// past its timeout and the grace period (before that its worker may still be on it): nothing it wrote committed, if
// it wrote at all. An edge function's run leaves no receipt: past its timeout it is timed_out, as before. A project
// whose receipts cannot be read now keeps its runs as they are until a later sweep can.
import type pg from 'pg';
import { asCaller, type ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import { expireRuns, settleSucceeded, strandedRuns, type StrandedRun } from '../db/claims.js';

export interface SettleDeps {
  control: pg.Pool;
  registry: ProjectRegistry;
  pools: ProjectPools;
  log: Logger;
}

export interface Settled {
  succeeded: number;
  timedOut: number;
}

/** the receipts of `runs` in the project's database, by run id, read as the project's owner role */
async function receipts(d: SettleDeps, ref: string, runs: StrandedRun[]): Promise<Map<string, Date>> {
  const project = await d.registry.get(ref);
  if (!project) return new Map(); // deleted with its database: nothing of it can have committed anywhere
  const { rows } = await asCaller(d.pools.get(project), { role: 'basalt_admin', claims: {} }, (c) =>
    c.query<{ n: number; committed_at: Date }>(
      `select v.n, r.committed_at from unnest($1::uuid[], $2::timestamptz[]) with ordinality as v(job, slot, n)
         join basalt.cron_receipts r on r.job_id = v.job and r.scheduled_at = v.slot`,
      [runs.map((r) => r.job_id), runs.map((r) => r.scheduled_at)],
    ));
  return new Map(rows.map((r) => [runs[Number(r.n) - 1].run_id, r.committed_at]));
}

/** One sweep: runs `running` for longer than `olderThanMs`, settled as above. */
export async function settleStrandedRuns(d: SettleDeps, olderThanMs: number, graceMs: number): Promise<Settled> {
  const stranded = await strandedRuns(d.control, olderThanMs, graceMs);
  const byRef = new Map<string, StrandedRun[]>();
  const expired: string[] = [];
  for (const run of stranded) {
    if (run.type !== 'db_function') {
      if (run.expired) expired.push(run.run_id);
      continue;
    }
    const group = byRef.get(run.ref) ?? [];
    group.push(run);
    byRef.set(run.ref, group);
  }
  const committed: { runId: string; committedAt: Date }[] = [];
  for (const [ref, runs] of byRef) {
    let found: Map<string, Date>;
    try {
      found = await receipts(d, ref, runs);
    } catch (err) {
      d.log.warn({ ref, runs: runs.length, err: (err as Error).message }, 'cron receipts unreadable; the runs are settled by a later sweep');
      continue;
    }
    for (const run of runs) {
      const at = found.get(run.run_id);
      if (at) committed.push({ runId: run.run_id, committedAt: at });
      else if (run.expired) expired.push(run.run_id);
    }
  }
  return { succeeded: await settleSucceeded(d.control, committed), timedOut: await expireRuns(d.control, expired) };
}
