// bench/skeleton: each service's own /health (the @basalt/http Fastify skeleton with its hooks, request ids and
// metrics) straight to the service, against a bare node:http handler answering the same JSON in the same run.
// Goal: ≥ 0.7 of the bare handler. Writes bench/results/skeleton.json.   node --import tsx bench/skeleton/run.ts
import { spawn } from 'node:child_process';
import { benchFleet, requireTool, wrk, writeResults } from '../lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNS = 64;
const SERVICES = (process.env.BENCH_SERVICES ?? 'platform,rest,auth,storage,functions,scheduler').split(',');
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
  wrk(bareUrl, { connections: CONNS, seconds: 2 });
  // the bare handler is measured again right before each service, so a drift of the shared machine during the run
  // (seen as ±30 % between minutes here) moves both sides of each ratio alike
  const ratios: Record<string, number> = {};
  const bareRuns: number[] = [];
  for (const name of SERVICES) {
    const url = `${bench.fleet.urls[name]}/health`;
    wrk(url, { connections: CONNS, seconds: 2 });
    const base = wrk(bareUrl, { connections: CONNS, seconds: SECONDS });
    const r = wrk(url, { connections: CONNS, seconds: SECONDS });
    bareRuns.push(base.rps);
    results[name] = { ...r, bare_rps: base.rps };
    ratios[name] = Number((r.rps / base.rps).toFixed(2));
  }
  results.bare = { rps_runs: bareRuns };
  const baseline = [...bareRuns].sort((a, b) => a - b)[Math.floor(bareRuns.length / 2)];
  const path = writeResults('skeleton', { seconds: SECONDS, connections: CONNS, results, ratio_to_bare: ratios, goal: 0.7 });
  console.log(JSON.stringify({ bare_rps: baseline, ratio_to_bare: ratios }, null, 2));
  console.log(`written to ${path}`);
} finally {
  bare.kill();
  await bench.stop();
}
