// bench/idle: what the whole fleet costs when nothing happens. Every service, started as `npm start` starts them, is
// left alone for BENCH_SETTLE seconds (10), then each process's CPU (its children included: workerd) is read over
// BENCH_SECONDS (20) and given in ms of CPU per second. Beside it, in the same seconds, a bare Node process holding a
// timer (what any idle Node process costs here): the fleet's figure is what its loops, timers and polls add. Apart
// from it, the Postgres backends the fleet holds on its control database: what its polls cost the database. A
// laptop or a small VPS runs the fleet all day, and a fleet whose projects all sleep still pays this.
// Writes bench/results/idle.json.   node --import tsx bench/idle/run.ts
import { spawn } from 'node:child_process';
import { SERVICES } from '@basalt/fleet';
import { backendPids, benchFleet, cpuMicros, writeResults } from '../lib.js';

const SETTLE = Number(process.env.BENCH_SETTLE ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

const bench = await benchFleet('idle', SERVICES.map((s) => s.name));
// started once the fleet is up, so a fleet that fails to start leaves no process behind
const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
try {
  await new Promise((r) => setTimeout(r, SETTLE * 1000));
  const pids: Record<string, number> = { ...Object.fromEntries([...bench.fleet.processes].map(([name, p]) => [name, p.pid!])), bare: bare.pid! };
  const backends = await backendPids(bench.databaseUrl);
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMicros(pid, { children: true })]));
  const backendsBefore = cpuMicros(backends);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const msPerSecond = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, +((cpuMicros(pid, { children: true }) - before[name]!) / 1000 / SECONDS).toFixed(2)]));
  const backendsMsPerSecond = +((cpuMicros(backends) - backendsBefore) / 1000 / SECONDS).toFixed(2);
  const services = Object.keys(pids).filter((name) => name !== 'bare');
  const fleet = services.reduce((sum, name) => sum + msPerSecond[name]!, 0);
  const summary = {
    fleet_cpu_ms_per_s: +fleet.toFixed(1),
    // the same share of one core, in percent
    fleet_core_percent: +(fleet / 10).toFixed(2),
    bare_node_cpu_ms_per_s: msPerSecond.bare,
    per_service_above_bare_ms_per_s: +((fleet - services.length * msPerSecond.bare!) / services.length).toFixed(2),
    control_db_backends: backends.length,
    control_db_backends_cpu_ms_per_s: backendsMsPerSecond,
  };
  for (const [name, ms] of Object.entries(msPerSecond)) process.stderr.write(`${name.padEnd(12)} ${ms.toFixed(2).padStart(6)} ms/s\n`);
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.stderr.write(`written to ${writeResults('idle', { settle_s: SETTLE, seconds: SECONDS, cpu_ms_per_s: msPerSecond, summary })}\n`);
} finally {
  await bench.stop();
  bare.kill();
}
