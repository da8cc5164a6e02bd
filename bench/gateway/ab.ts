// bench/gateway/ab.ts: two builds of the gateway side by side in one run — each in a fleet of its own (platform and
// gateway, `npm start`'s defaults) in front of the same minimal upstream, loaded in alternated short rounds — and
// the medians of the rounds' ratios, B over A: req/s and CPU per request at 64 connections, p50 at one connection.
// This machine's speed swings by 2x from one minute to the next; a ratio of rounds seconds apart holds where two
// runs of bench/gateway/run.ts minutes apart cannot tell a few percent. Writes bench/results/gateway-ab.json.
//   git stash && npm run build -- --outdir /tmp/a && git stash pop && npm run build -- --outdir /tmp/b
//   node --import tsx bench/gateway/ab.ts /tmp/a /tmp/b       (BENCH_ROUNDS pairs, 20; BENCH_SECONDS each, 2)
// Two Node versions, one build: BENCH_NODE_A and BENCH_NODE_B name the node binary each side's fleet runs with
// (default: the one running this script), e.g. BENCH_NODE_B=$(npx -y -p node@24 -c 'which node').
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, requireTool, writeResults, wrk, wrkWithCpu } from '../lib.js';
import { gatewayInFront, startOrigin, type GatewayInFront } from './origin.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const NODES = [process.env.BENCH_NODE_A, process.env.BENCH_NODE_B];

const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length !== 2 || dirs.some((d) => !existsSync(join(d, 'gateway.mjs')))) {
  process.stderr.write('usage: node --import tsx bench/gateway/ab.ts <build A> <build B>   (directories `npm run build -- --outdir` wrote)\n');
  process.exit(2);
}
requireTool('wrk', 'wrk');

const origin = await startOrigin();
interface Side extends GatewayInFront {
  build: string;
  rps: number[];
  cpu: number[];
  p50: number[];
}
const sides: Side[] = [];
try {
  for (const [i, build] of dirs.entries()) {
    const gateway = await gatewayInFront(`gw${'ab'[i]}`, origin.port, join(build, 'gateway.mjs'), NODES[i]);
    sides.push({ ...gateway, build: NODES[i] ? `${build} on ${NODES[i]}` : build, rps: [], cpu: [], p50: [] });
  }
  for (const s of sides) wrk(s.url, { connections: 8, seconds: 2, headers: s.headers }); // warm-up: JIT, pools, caches
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of round % 2 ? [...sides].reverse() : sides) {
      const r = wrkWithCpu(s.url, { connections: CONNECTIONS, seconds: SECONDS, headers: s.headers }, s.pid);
      s.cpu.push(r.cpu_us);
      s.rps.push(r.rps);
    }
    for (const s of round % 2 ? sides : [...sides].reverse()) s.p50.push(wrk(s.url, { connections: 1, seconds: 1, headers: s.headers }).p50_ms);
  }
  const [a, b] = sides as [Side, Side];
  const ratio = (key: 'rps' | 'cpu' | 'p50') => +median(a[key].map((x, i) => b[key][i]! / x)).toFixed(3);
  const side = (s: Side) => ({
    build: s.build,
    rps: Math.round(median(s.rps)),
    cpu_us_per_request: +median(s.cpu).toFixed(1),
    p50_ms_one_connection: +median(s.p50).toFixed(3),
    rounds: { rps: s.rps.map(Math.round), cpu_us_per_request: s.cpu.map((c) => +c.toFixed(1)), p50_ms_one_connection: s.p50 },
  });
  const summary = { b_vs_a_rps: ratio('rps'), b_vs_a_cpu_per_request: ratio('cpu'), b_vs_a_p50_one_connection: ratio('p50') };
  for (const s of sides) process.stderr.write(`${s.build}: ${side(s).rps} req/s, ${side(s).cpu_us_per_request} µs a request, 1 conn p50 ${side(s).p50_ms_one_connection} ms\n`);
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  const path = writeResults('gateway-ab', { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, a: side(a), b: side(b), summary });
  process.stderr.write(`written to ${path}\n`);
} finally {
  for (const s of sides) await s.bench.stop();
  origin.process.kill('SIGTERM');
}
