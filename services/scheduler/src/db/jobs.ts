// All SQL of cron jobs and runs in the control database.
import type pg from 'pg';
import { withTransaction } from '@basalt/db';

export interface JobRecord {
  id: string;
  ref: string;
  name: string;
  schedule: string;
  target: Target;
  timeout_ms: number;
  paused: boolean;
  next_run_at: Date;
  created_at: Date;
  updated_at: Date;
}

export type Target =
  | { type: 'edge_function'; slug: string; body?: unknown }
  | { type: 'db_function'; name: string; args?: Record<string, unknown> };

export interface RunRecord {
  id: string;
  job_id: string;
  scheduled_at: Date;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'timed_out';
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  error: string | null;
}

const JOB = 'id, ref, name, schedule, target, timeout_ms, paused, next_run_at, created_at, updated_at';

export const jobsDb = (db: pg.Pool) => ({
  /**
   * The new job, 'exists' when the name is taken, 'full' when the project has `max` jobs already. Creates of one
   * project take turns (a transaction-scoped advisory lock), so racing ones cannot all pass the count.
   */
  async insert(
    j: { ref: string; name: string; schedule: string; target: Target; timeoutMs: number; nextRunAt: Date }, max: number,
  ): Promise<JobRecord | 'exists' | 'full'> {
    return withTransaction(db, async (c) => {
      await c.query(`select pg_advisory_xact_lock(hashtextextended('platform.cron_jobs:' || $1, 0))`, [j.ref]);
      const { rows: [{ n }] } = await c.query<{ n: number }>('select count(*)::int as n from platform.cron_jobs where ref = $1', [j.ref]);
      if (n >= max) return 'full';
      const { rows } = await c.query<JobRecord>(
        `insert into platform.cron_jobs (ref, name, schedule, target, timeout_ms, next_run_at) values ($1, $2, $3, $4, $5, $6)
         on conflict (ref, name) do nothing returning ${JOB}`,
        [j.ref, j.name, j.schedule, JSON.stringify(j.target), j.timeoutMs, j.nextRunAt],
      );
      return rows[0] ?? 'exists';
    });
  },
  async list(ref: string): Promise<JobRecord[]> {
    const { rows } = await db.query<JobRecord>(`select ${JOB} from platform.cron_jobs where ref = $1 order by created_at`, [ref]);
    return rows;
  },
  async get(ref: string, id: string): Promise<JobRecord | null> {
    const { rows } = await db.query<JobRecord>(`select ${JOB} from platform.cron_jobs where ref = $1 and id = $2`, [ref, id]);
    return rows[0] ?? null;
  },
  async update(ref: string, id: string, p: { name?: string; schedule?: string; target?: Target; timeoutMs?: number; paused?: boolean; nextRunAt?: Date }): Promise<JobRecord | null> {
    const { rows } = await db.query<JobRecord>(
      `update platform.cron_jobs set name = coalesce($3, name), schedule = coalesce($4, schedule), target = coalesce($5, target),
              timeout_ms = coalesce($6, timeout_ms), paused = coalesce($7, paused), next_run_at = coalesce($8, next_run_at), updated_at = now()
        where ref = $1 and id = $2 returning ${JOB}`,
      [ref, id, p.name ?? null, p.schedule ?? null, p.target ? JSON.stringify(p.target) : null, p.timeoutMs ?? null, p.paused ?? null, p.nextRunAt ?? null],
    );
    return rows[0] ?? null;
  },
  async remove(ref: string, id: string): Promise<boolean> {
    const { rowCount } = await db.query('delete from platform.cron_jobs where ref = $1 and id = $2', [ref, id]);
    return rowCount === 1;
  },
  async runs(jobId: string, limit: number): Promise<RunRecord[]> {
    const { rows } = await db.query<RunRecord>(
      `select id, job_id, scheduled_at, status, started_at, finished_at, duration_ms, error
         from platform.cron_runs where job_id = $1 order by scheduled_at desc limit $2`,
      [jobId, limit],
    );
    return rows;
  },
});

export type JobsDb = ReturnType<typeof jobsDb>;
