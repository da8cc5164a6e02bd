// CPU per request of groups of processes (cpuMicros from bench/lib.ts).
import { cpuMicros } from '../lib.js';

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
