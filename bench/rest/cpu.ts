// CPU time of processes from /proc (utime + stime, all threads), for CPU per request: req/s moves with whatever
// else the machine runs, the CPU a process spent on a run's requests much less.
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

const TICK_US = 10_000; // USER_HZ is 100 on Linux

const stat = (pid: number | string): string[] | null => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  } catch {
    return null; // gone: a backend that exited mid-run
  }
};
const ticks = (f: string[] | null) => (f ? (Number(f[11]) + Number(f[12])) * TICK_US : 0);

/** µs of CPU the processes and their children (the gateway's cluster workers, say) have used so far. */
export function cpuMicros(pids: number[]): number {
  const wanted = new Set(pids.map(String));
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = stat(d);
    if (f && (wanted.has(d) || wanted.has(f[1]))) sum += ticks(f);
  }
  return sum;
}

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
  const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuMicros(p)]));
  const r = load();
  const n = r.requests || r.rps * seconds;
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, +((cpuMicros(p) - before[k]) / n).toFixed(1)]));
  return { ...r, cpu_us_per_request: cpu };
}
