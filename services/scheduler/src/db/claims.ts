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

/** Locks due jobs so no other replica sees them until this transaction ends (SKIP LOCKED: never wait). */
export async function lockDueJobs(client: pg.PoolClient, limit: number): Promise<DueJob[]> {
  const { rows } = await client.query<DueJob>(
    `select id, schedule, next_run_at from platform.cron_jobs
      where not paused and next_run_at <= now()
      order by next_run_at for update skip locked limit $1`,
    [limit],
  );
  return rows;
}

/** One run row per (job, slot) — the unique key makes a second insert for the same slot a no-op. */
export async function recordRuns(client: pg.PoolClient, jobIds: string[], slots: Date[], nextRunAts: Date[]): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `insert into platform.cron_runs (job_id, scheduled_at)
     select * from unnest($1::uuid[], $2::timestamptz[]) on conflict (job_id, scheduled_at) do nothing returning id`,
    [jobIds, slots],
  );
  await client.query(
    `update platform.cron_jobs j set next_run_at = v.next from unnest($1::uuid[], $2::timestamptz[]) as v(id, next) where j.id = v.id`,
    [jobIds, nextRunAts],
  );
  return rows.map((r) => String(r.id));
}

/** Only the worker that moves a run from queued to running executes it (at-least-once delivery, exactly-once effect). */
export async function startRun(db: pg.Pool, runId: string): Promise<ClaimedRun | null> {
  const { rows } = await db.query<ClaimedRun>(
    `update platform.cron_runs r set status = 'running', started_at = now()
       from platform.cron_jobs j
      where r.id = $1 and r.status = 'queued' and j.id = r.job_id
      returning r.id as run_id, j.id as job_id, j.ref, j.target, j.timeout_ms, r.scheduled_at`,
    [runId],
  );
  return rows[0] ?? null;
}

export async function finishRun(db: pg.Pool, runId: string, status: 'succeeded' | 'failed' | 'timed_out', error: string | null): Promise<void> {
  await db.query(
    `update platform.cron_runs set status = $2, error = $3, finished_at = now(),
            duration_ms = greatest(0, round(extract(epoch from (now() - started_at)) * 1000))::int
      where id = $1 and status = 'running'`,
    [runId, status, error],
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

/** Runs whose worker died mid-run: past their timeout plus a grace period they are marked timed_out. */
export async function expireStaleRuns(db: pg.Pool, graceMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `update platform.cron_runs r set status = 'timed_out', finished_at = now(), error = 'worker stopped before the run finished'
       from platform.cron_jobs j
      where j.id = r.job_id and r.status = 'running'
        and r.started_at < now() - make_interval(secs => (j.timeout_ms + $1::float) / 1000)`,
    [graceMs],
  );
  return rowCount ?? 0;
}
