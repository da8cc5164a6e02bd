// bench/skeleton: each service's own /health (the @basalt/http Fastify skeleton with its hooks, request ids and
// metrics) straight to the service, against a bare node:http handler answering the same JSON in the same run.
// Goal: ≥ 0.7 of the bare handler, the median of BENCH_ROUNDS (3) pairs of BENCH_SECONDS (3 s) runs, the rounds
// going round-robin over the services once every process is warm. Beside req/s, each run's CPU per request (µs, from
// /proc), which moves less with the minute than req/s: the CPU ratio is the bare handler's over the service's, so it
// reads like the req/s one (0.7: the service spends 1/0.7 of the bare CPU on a request). Writes
// bench/results/skeleton.json.   node --import tsx bench/skeleton/run.ts
import { spawn } from 'node:child_process';
import { SERVICES as FLEET } from '@basalt/fleet';
import { benchFleet, median, requireTool, wrk, wrkWithCpu, writeResults } from '../lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNS = 64;
// every service on the skeleton: all but the gateway, which runs its own forwarder (bench/gateway)
const SERVICES = process.env.BENCH_SERVICES?.split(',') ?? FLEET.map((s) => s.name).filter((name) => name !== 'gateway');
requireTool('wrk', 'wrk');

const BARE = `
const body = JSON.stringify({ status: 'ok', service: 'bare' });
const server = require('node:http').createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

const bare = spawn(process.execPath, ['-e', BARE], { stdio: ['ignore', 'pipe', 'inherit'] });
const barePort = await new Promise<number>((r) => bare.stdout!.once('data', (d) => r(Number(String(d).trim()))));
const bench = await benchFleet('skeleton', ['platform', ...SERVICES.filter((s) => s !== 'platform')]);
try {
  const results: Record<string, unknown> = {};
  const bareUrl = `http://127.0.0.1:${barePort}/health`;
  // every process warmed first: a service measured right after the fleet started would share the machine with the
  // others' start-up work (JIT, first collections). Then the rounds go round-robin over the services, each run paired
  // with a run of the bare handler right before it, and each service's median ratio counts: the shared machine
  // drifts (±30 % between minutes here), which a single pair of long runs reads as a ratio moving by as much; both
  // sides of each pair move alike
  const urls = Object.fromEntries(SERVICES.map((name) => [name, `${bench.fleet.urls[name]}/health`]));
  for (const url of [bareUrl, ...Object.values(urls)]) wrk(url, { connections: CONNS, seconds: 2 });
  const ratios: Record<string, number> = {};
  const cpuRatios: Record<string, number> = {};
  const bareRuns: number[] = [];
  type Round = { rps: number; bare_rps: number; ratio: number; cpu_us: number; bare_cpu_us: number; cpu_ratio: number; p50_ms: number; p99_ms: number };
  const rounds: Record<string, Round[]> = {};
  const load = { connections: CONNS, seconds: SECONDS };
  for (let i = 0; i < ROUNDS; i++) {
    for (const name of SERVICES) {
      const pid = bench.fleet.processes.get(name)!.pid!;
      const runBare = () => wrkWithCpu(bareUrl, load, bare.pid!);
      const runService = () => wrkWithCpu(urls[name]!, load, pid);
      // which of the pair goes first alternates, so a machine speeding up or slowing down favours neither
      let base, r;
      if (i % 2 === 0) [base, r] = [runBare(), runService()];
      else [r, base] = [runService(), runBare()];
      bareRuns.push(base.rps);
      (rounds[name] ??= []).push({
        rps: r.rps, bare_rps: base.rps, ratio: Number((r.rps / base.rps).toFixed(3)),
        cpu_us: Number(r.cpu_us.toFixed(1)), bare_cpu_us: Number(base.cpu_us.toFixed(1)), cpu_ratio: Number((base.cpu_us / r.cpu_us).toFixed(3)),
        p50_ms: r.p50_ms, p99_ms: r.p99_ms,
      });
    }
  }
  for (const name of SERVICES) {
    results[name] = rounds[name];
    ratios[name] = Number(median(rounds[name]!.map((r) => r.ratio)).toFixed(2));
    cpuRatios[name] = Number(median(rounds[name]!.map((r) => r.cpu_ratio)).toFixed(2));
  }
  results.bare = { rps_runs: bareRuns };
  const path = writeResults('skeleton', {
    seconds: SECONDS, rounds: ROUNDS, connections: CONNS, results, ratio_to_bare: ratios, cpu_ratio_to_bare: cpuRatios, goal: 0.7,
  });
  console.log(JSON.stringify({ bare_rps: median(bareRuns), ratio_to_bare: ratios, cpu_ratio_to_bare: cpuRatios }, null, 2));
  console.log(`written to ${path}`);
} finally {
  bare.kill();
  await bench.stop();
}
