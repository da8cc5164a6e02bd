// bench/scheduler: lateness (started_at − scheduled_at) of cron runs with 1,000 jobs firing every second,
// against the target p99 < 250 ms. Starts platform + scheduler on a fresh control database.
//   node --import tsx bench/scheduler/run.ts   (BENCH_JOBS, BENCH_SECONDS to change the load)
import pg from 'pg';
import { benchFleet, cpuMicros, writeResults } from '../lib.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const bench = await benchFleet('cron', ['platform', 'scheduler', 'gateway']);

try {
  const p = await bench.platform('/projects', { name: 'bench-cron' });
  await bench.platform(`/projects/${p.ref}/sql`, { query: 'create function noop() returns void language sql as $$ select $$' });
  // Jobs are inserted straight into the control table in one statement: creating 1,000 through the API takes
  // longer than the measurement itself and is not what is measured.
  const control = new pg.Client({ connectionString: bench.databaseUrl });
  await control.connect();
  await control.query(
    `insert into platform.cron_jobs (ref, name, schedule, target, timeout_ms, next_run_at)
     select $1, 'job-' || g, '* * * * * *', '{"type":"db_function","name":"noop"}', 5000, date_trunc('second', now()) + interval '2 s'
       from generate_series(1, $2) g`,
    [p.ref, JOBS],
  );
  const startedAt = new Date(Date.now() + 2_000);
  const schedulerPid = bench.fleet.processes.get('scheduler')!.pid!;
  await new Promise((r) => setTimeout(r, 2000));
  const cpuBefore = cpuMicros(schedulerPid) / 1000;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  await control.query('update platform.cron_jobs set paused = true where ref = $1', [p.ref]);
  await new Promise((r) => setTimeout(r, 3_000));
  const schedulerCpuMs = cpuMicros(schedulerPid) / 1000 - cpuBefore;
  const { rows } = await control.query(
    `select extract(epoch from (r.started_at - r.scheduled_at)) * 1000 as lateness_ms,
            extract(epoch from (r.created_at - r.scheduled_at)) * 1000 as claim_ms, r.status, r.duration_ms
       from platform.cron_runs r join platform.cron_jobs j on j.id = r.job_id
      where j.ref = $1 and r.scheduled_at >= $2`,
    [p.ref, startedAt],
  );
  await control.end();
  const lateness = rows.filter((r) => r.lateness_ms !== null).map((r) => Number(r.lateness_ms)).sort((x, y) => x - y);
  const claim = rows.map((r) => Number(r.claim_ms)).sort((x, y) => x - y);
  const pick = (xs: number[], f: number) => +xs[Math.min(xs.length - 1, Math.floor(f * xs.length))].toFixed(1);
  const q = (f: number) => pick(lateness, f);
  const duration = rows.map((r) => Number(r.duration_ms ?? 0)).sort((x, y) => x - y);
  const expected = JOBS * SECONDS;
  const summary = {
    jobs: JOBS, seconds: SECONDS, runs: rows.length, expected_runs_about: expected,
    succeeded: rows.filter((r) => r.status === 'succeeded').length,
    lateness_ms: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) },
    /** slot → start of the claim transaction that recorded the run (negative: claimed ahead of the slot) */
    claimed_after_ms: { p50: pick(claim, 0.5), p99: pick(claim, 0.99) },
    /** started_at → finished_at of a run, as recorded */
    run_duration_ms: { p50: pick(duration, 0.5), p99: pick(duration, 0.99) },
    /** the scheduler process's CPU (user + system) over the measured seconds, per run */
    scheduler_cpu_ms_per_run: +(schedulerCpuMs / Math.max(1, rows.length)).toFixed(3),
    target: { p99_ms: 250 },
  };
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.stderr.write(`written to ${writeResults('scheduler', summary)}\n`);
} finally {
  await bench.stop();
}
