// CPU per request of groups of processes (cpuMicros from bench/lib.ts), and the Postgres backends of one database.
import pg from 'pg';
import { cpuMicros } from '../lib.js';

/** The Postgres backends serving one database (the project's), whose CPU a request also costs. */
export async function backendPids(dbUrl: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    return rows.map((r) => r.pid);
  } finally {
    await c.end();
  }
}

/** Runs `load` and answers its result with the µs of CPU per request each group of processes spent meanwhile. */
export async function withCpu<T extends { requests?: number; rps: number }>(
  groups: Record<string, () => number[] | Promise<number[]>>, seconds: number, load: () => T,
): Promise<T & { cpu_us_per_request: Record<string, number> }> {
  const pids = Object.fromEntries(await Promise.all(Object.entries(groups).map(async ([k, f]) => [k, await f()] as const)));
  const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuMicros(p, { children: true })]));
  const r = load();
  const n = r.requests || r.rps * seconds;
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, +((cpuMicros(p, { children: true }) - before[k]) / n).toFixed(1)]));
  return { ...r, cpu_us_per_request: cpu };
}
