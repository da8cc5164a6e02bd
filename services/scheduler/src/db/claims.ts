// The scheduler's SQL: claiming due jobs across replicas, and the run lifecycle that makes delivery idempotent.
import type pg from 'pg';
import type { Target } from './jobs.js';

export interface DueJob {
  id: string;
  schedule: string;
  next_run_at: Date;
}

export interface ClaimedRun {
  run_id: string;
  job_id: string;
  ref: string;
  target: Target;
  timeout_ms: number;
  scheduled_at: Date;
}

/** a job due by $1 ms from now: each statement using it passes aheadMs as $1 (the partial index cron_jobs_due covers it) */
const DUE = 'not paused and next_run_at <= now() + make_interval(secs => $1::float / 1000)';

/** Whether any job is due by `aheadMs` from now: one statement, no transaction, no lock (the partial index answers it). */
export async function anyDue(db: pg.Pool, aheadMs: number): Promise<boolean> {
  const { rows } = await db.query<{ due: boolean }>(`select exists (select 1 from platform.cron_jobs where ${DUE}) as due`, [aheadMs]);
  return rows[0]!.due;
}

/**
 * Locks the jobs due by `aheadMs` from now so no other replica sees them until this transaction ends (SKIP
 * LOCKED: never wait).
 */
export async function lockDueJobs(client: pg.PoolClient, limit: number, aheadMs: number): Promise<DueJob[]> {
  const { rows } = await client.query<DueJob>(
    `select id, schedule, next_run_at from platform.cron_jobs where ${DUE} order by next_run_at for update skip locked limit $2`,
    [aheadMs, limit],
  );
  return rows;
}

export interface RecordedRun {
  id: string;
  scheduled_at: Date;
}

/** One run row per (job, slot) — the unique key makes a second insert for the same slot a no-op. */
export async function recordRuns(client: pg.PoolClient, jobIds: string[], slots: Date[], nextRunAts: Date[]): Promise<RecordedRun[]> {
  const { rows } = await client.query<{ id: string; scheduled_at: Date }>(
    `insert into platform.cron_runs (job_id, scheduled_at)
     select * from unnest($1::uuid[], $2::timestamptz[]) on conflict (job_id, scheduled_at) do nothing returning id, scheduled_at`,
    [jobIds, slots],
  );
  await client.query(
    `update platform.cron_jobs j set next_run_at = v.next from unnest($1::uuid[], $2::timestamptz[]) as v(id, next) where j.id = v.id`,
    [jobIds, nextRunAts],
  );
  return rows.map((r) => ({ id: String(r.id), scheduled_at: r.scheduled_at }));
}

/** Only the worker that moves a run from queued to running executes it (at-least-once delivery, exactly-once effect). */
export async function startRuns(db: pg.Pool, runIds: string[]): Promise<ClaimedRun[]> {
  const { rows } = await db.query<ClaimedRun>(
    `update platform.cron_runs r set status = 'running', started_at = now()
       from platform.cron_jobs j
      where r.id = any($1::bigint[]) and r.status = 'queued' and j.id = r.job_id
      returning r.id::text as run_id, j.id as job_id, j.ref, j.target, j.timeout_ms, r.scheduled_at`,
    [runIds],
  );
  return rows;
}

export interface RunOutcome {
  runId: string;
  status: 'succeeded' | 'failed' | 'timed_out';
  error: string | null;
  /** when execution began (the batch was taken earlier), so lateness is measured to the real start */
  startedAt: Date;
  durationMs: number;
}

/**
 * Records the outcome of a batch of runs in one statement. A run the sweep already settled as succeeded from its
 * receipt (its batch took long) gets the worker's own timings.
 */
export async function finishRuns(db: pg.Pool, outcomes: RunOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.query(
    `update platform.cron_runs r set status = v.status, error = v.error, duration_ms = v.duration, started_at = v.started,
            finished_at = v.started + make_interval(secs => v.duration::float / 1000)
       from unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::timestamptz[]) as v(id, status, error, duration, started)
      where r.id = v.id and (r.status = 'running' or (r.status = 'succeeded' and v.status = 'succeeded'))`,
    [outcomes.map((o) => o.runId), outcomes.map((o) => o.status), outcomes.map((o) => o.error), outcomes.map((o) => Math.round(o.durationMs)), outcomes.map((o) => o.startedAt)],
  );
}

/** Runs recorded but never picked up (Redis was down, the scheduler died before enqueueing). */
export async function orphanedRuns(db: pg.Pool, olderThanMs: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select id from platform.cron_runs where status = 'queued' and created_at < now() - make_interval(secs => $1::float / 1000) limit 1000`,
    [olderThanMs],
  );
  return rows.map((r) => String(r.id));
}

export interface StrandedRun {
  run_id: string;
  job_id: string;
  scheduled_at: Date;
  ref: string;
  type: Target['type'];
  /** past its timeout and the grace period: its worker is not coming back for it */
  expired: boolean;
}

/**
 * Runs still `running` a while after they started: their worker stopped (and so never recorded the outcome), or
 * has not finished yet. Settled from their receipts (jobs/settle.ts).
 */
export async function strandedRuns(db: pg.Pool, olderThanMs: number, graceMs: number): Promise<StrandedRun[]> {
  const { rows } = await db.query<StrandedRun>(
    `select r.id::text as run_id, r.job_id, r.scheduled_at, j.ref, j.target ->> 'type' as type,
            r.started_at < now() - make_interval(secs => (j.timeout_ms + $2::float) / 1000) as expired
       from platform.cron_runs r join platform.cron_jobs j on j.id = r.job_id
      where r.status = 'running' and r.started_at < now() - make_interval(secs => $1::float / 1000)
      limit 1000`,
    [olderThanMs, graceMs],
  );
  return rows;
}

/** Runs whose receipt was found: they committed at `committedAt`, whatever became of their worker. */
export async function settleSucceeded(db: pg.Pool, receipts: { runId: string; committedAt: Date }[]): Promise<number> {
  if (receipts.length === 0) return 0;
  const { rowCount } = await db.query(
    `update platform.cron_runs r set status = 'succeeded', error = null, finished_at = v.at,
            duration_ms = greatest(0, round(extract(epoch from v.at - r.started_at) * 1000))
       from unnest($1::bigint[], $2::timestamptz[]) as v(id, at)
      where r.id = v.id and r.status = 'running'`,
    [receipts.map((r) => r.runId), receipts.map((r) => r.committedAt)],
  );
  return rowCount ?? 0;
}

/** Runs past their timeout whose effect is known not to have committed (no receipt), or cannot be known. */
export async function expireRuns(db: pg.Pool, runIds: string[]): Promise<number> {
  if (runIds.length === 0) return 0;
  const { rowCount } = await db.query(
    `update platform.cron_runs set status = 'timed_out', finished_at = now(), error = 'worker stopped before the run finished'
      where id = any($1::bigint[]) and status = 'running'`,
    [runIds],
  );
  return rowCount ?? 0;
}
