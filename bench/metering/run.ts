// bench/metering: what usage metering costs on the hot path. REST reads (PostgREST-style GET of a small row set)
// through two gateways in front of the same platform and rest services in one run, one with metering on (the
// default) and one with BASALT_METERING=false, measured in alternating rounds so drift on a shared machine hits
// both alike; reports requests/s of each and the ratio on/off, and checks that the metered gateway counted every
// request it answered. Writes bench/results/metering.json.
//   node --import tsx bench/metering/run.ts   (BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_ROUNDS)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { Meter } from '@basalt/metering';
import { benchFleet, requireTool, writeResults, wrk, type WrkResult } from '../lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

requireTool('wrk', 'wrk');

// the counter alone, in process: what the gateway adds per request (two count() calls) without any I/O around it
function countCost(): { ns_per_count: number; keys: number } {
  const meter = new Meter({ write: async () => undefined });
  const refs = Array.from({ length: 1000 }, (_, i) => `ref${String(i).padStart(17, '0')}`);
  const n = 2_000_000;
  for (let i = 0; i < 200_000; i++) meter.count(refs[i % refs.length], 'rest', 'requests'); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) meter.count(refs[i % refs.length], 'rest', i % 2 ? 'requests' : 'egress_bytes', 120);
  return { ns_per_count: Math.round(Number(process.hrtime.bigint() - t0) / n), keys: meter.pendingKeys };
}
const counter = countCost();
process.stderr.write(`count(): ${counter.ns_per_count} ns per call over ${counter.keys} keys\n`);

const bench = await benchFleet('metering', ['platform', 'rest', 'gateway'], { METERING_FLUSH_INTERVAL_MS: '1000' });
const { fleet } = bench;
// the second gateway: the same fleet behind it, metering off
const offPort = await freePort();
const off = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/src/main.ts')], {
  cwd: ROOT, env: { ...process.env, ...fleet.env, PORT: String(offPort), BASALT_METERING: 'false', LOG_LEVEL: 'warn' }, stdio: 'inherit',
});

try {
  await waitForHealth(`http://127.0.0.1:${offPort}`, 120_000, off);
  const project = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: 'bench' });
  await bench.platform(`/projects/${project.ref}`, { settings: { rate_limit_rps: 1_000_000 } }, 'PATCH');
  await bench.platform(`/projects/${project.ref}/sql`, {
    query: `create table todos (id int primary key, title text, done bool);
      create policy read_all on todos for select to anon using (true);
      insert into todos select g, 'todo ' || g, g % 2 = 0 from generate_series(1, 10) g`,
  });
  const path = `/project/${project.ref}/rest/v1/todos?select=*&limit=3`;
  const targets = { on: `${fleet.gatewayUrl}${path}`, off: `http://127.0.0.1:${offPort}${path}` };
  const headers = { apikey: project.anon_key };
  // warm-up: JIT, pools, schema cache
  const warmOn = wrk(targets.on, { connections: 8, seconds: 3, headers });
  wrk(targets.off, { connections: 8, seconds: 3, headers });

  const runs: Record<'on' | 'off', WrkResult[]> = { on: [], off: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // alternate which goes first, so neither always runs on the warmer (or busier) half of a round
    const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
    for (const name of order) {
      const r = wrk(targets[name], { connections: CONNECTIONS, seconds: SECONDS, headers });
      runs[name].push(r);
      process.stderr.write(`round ${round + 1} metering ${name.padEnd(3)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50_ms.toFixed(2)} ms  p99 ${r.p99_ms.toFixed(2)} ms  errors ${r.errors}\n`);
    }
  }

  // every request the metered gateway answered is in platform.usage_hourly once its last flush is in
  const control = new pg.Client({ connectionString: bench.databaseUrl });
  await control.connect();
  let metered = 0;
  const deadline = Date.now() + 30_000;
  const expected = runs.on.reduce((n, r) => n + (r.requests ?? 0), warmOn.requests ?? 0);
  while (Date.now() < deadline) {
    const { rows } = await control.query(`select coalesce(sum(value), 0)::bigint as n from platform.usage_hourly where ref = $1 and service = 'rest' and metric = 'requests'`, [project.ref]);
    metered = Number(rows[0].n);
    if (metered >= expected) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await control.end();

  const mean = (xs: WrkResult[], k: 'rps' | 'p50_ms' | 'p99_ms') => xs.reduce((n, r) => n + r[k], 0) / xs.length;
  const summary = {
    count_ns_per_call: counter.ns_per_count,
    rps_on: Math.round(mean(runs.on, 'rps')),
    rps_off: Math.round(mean(runs.off, 'rps')),
    ratio_on_off: +(mean(runs.on, 'rps') / mean(runs.off, 'rps')).toFixed(3),
    p50_ms_on: +mean(runs.on, 'p50_ms').toFixed(2),
    p50_ms_off: +mean(runs.off, 'p50_ms').toFixed(2),
    requests_answered_metered_gateway: expected,
    requests_metered: metered,
    note: 'one machine shared with other work: compare the ratio, not the absolute figures',
  };
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  const written = writeResults('metering', { seconds: SECONDS, connections: CONNECTIONS, rounds: ROUNDS, runs, summary });
  process.stderr.write(`written to ${written}\n`);
} finally {
  off.kill('SIGTERM');
  await bench.stop();
}
