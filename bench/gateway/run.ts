// bench/gateway: requests/s and p50/p99 for a small JSON response — straight to a minimal upstream, through nginx
// in front of it, through a bare Node proxy (node-proxy.mjs: what any proxy written in Node costs on this machine),
// through the same proxy with net.Server in place of node:http on the client's side (raw-proxy.mjs: what node:http's
// server side costs) and through our gateway (project resolution, key verification, rate limit, proxy) — in one run,
// BENCH_ROUNDS (5) alternated rounds of BENCH_SECONDS (4 s) each, the gateway/nginx ratio the median of the rounds';
// each proxy's CPU per proxied request (µs, from /proc, workers included), which moves less than req/s with
// what else the machine runs; plus HS256 verifications per second on one core. Writes bench/results/gateway.json.
//   npm run gateway --workspace bench   (or: node --import tsx bench/gateway/run.ts)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForHealth } from '@basalt/fleet';
import { hmacKey, signApiKey, verifyJwt } from '@basalt/jwt';
import { cpuMicros, median, medianRun, requireTool, writeResults, wrk } from '../lib.js';
import { gatewayInFront, startOrigin, type GatewayInFront } from './origin.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

requireTool('wrk', 'wrk');
requireTool('nginx', 'nginx-light');

const { port: upstreamPort, process: upstream } = await startOrigin();
const nginxPort = await freePort();
const children: ChildProcess[] = [upstream];

const dir = mkdtempSync(join(tmpdir(), 'basalt-nginx-'));
writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}`);
const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
children.push(nginx);
/** one of the reference proxies beside this file, in front of the upstream on a port of its own */
async function referenceProxy(file: string): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), String(port), String(upstreamPort)], { stdio: 'inherit' });
  children.push(child);
  return { port, process: child };
}
const { port: nodeProxyPort, process: nodeProxy } = await referenceProxy('./node-proxy.mjs');
const { port: rawProxyPort, process: rawProxy } = await referenceProxy('./raw-proxy.mjs');

let gateway: GatewayInFront | undefined;
try {
  gateway = await gatewayInFront('gw', upstreamPort);
  await waitForHealth(`http://127.0.0.1:${upstreamPort}`, 10_000).catch(() => undefined);

  const targets = {
    direct: { url: `http://127.0.0.1:${upstreamPort}/mongo/v1/todos`, headers: {} },
    nginx: { url: `http://127.0.0.1:${nginxPort}/mongo/v1/todos`, headers: {} },
    node_proxy: { url: `http://127.0.0.1:${nodeProxyPort}/mongo/v1/todos`, headers: {} },
    raw_proxy: { url: `http://127.0.0.1:${rawProxyPort}/mongo/v1/todos`, headers: {} },
    gateway: { url: gateway.url, headers: gateway.headers },
  };
  const results: Record<string, { loaded: ReturnType<typeof wrk>; rounds: number[]; single: ReturnType<typeof wrk> }> = {};
  // each proxy's CPU (its workers included) per request: a slow phase of this machine that slows Node's HTTP path
  // and not nginx's shows there, where req/s alone cannot tell it from a slower gateway
  const proxyPids: Record<string, number> = { nginx: nginx.pid!, node_proxy: nodeProxy.pid!, raw_proxy: rawProxy.pid!, gateway: gateway.pid };
  const cpu: Record<string, { micros: number; requests: number }> = {};
  for (const t of Object.values(targets)) wrk(t.url, { connections: 8, seconds: 2, headers: t.headers }); // warm-up: JIT, keep-alive pools, caches
  // loaded runs in alternated rounds, each target's median counting: the machine drifts by ±30 % between minutes,
  // which one run per target after another reads as a ratio moving by as much
  const runs: Record<string, ReturnType<typeof wrk>[]> = {};
  const ratios: number[] = [];
  // nginx and the gateway run back to back, in turn first, so the ratio of a round compares seconds apart
  const orders = [['direct', 'raw_proxy', 'node_proxy', 'nginx', 'gateway'], ['direct', 'raw_proxy', 'node_proxy', 'gateway', 'nginx']] as const;
  for (let i = 0; i < ROUNDS; i++) {
    for (const name of orders[i % 2]!) {
      const t = targets[name];
      const pid = proxyPids[name];
      const cpuBefore = pid ? cpuMicros(pid, { children: true }) : 0;
      const r = wrk(t.url, { connections: CONNECTIONS, seconds: SECONDS, headers: t.headers });
      if (pid) {
        const c = (cpu[name] ??= { micros: 0, requests: 0 });
        c.micros += cpuMicros(pid, { children: true }) - cpuBefore;
        c.requests += r.requests || r.rps * SECONDS;
      }
      (runs[name] ??= []).push(r);
    }
    ratios.push(runs.gateway!.at(-1)!.rps / runs.nginx!.at(-1)!.rps);
  }
  // one connection, in rounds too: each round's added p50 against the direct run of the same round
  const singles: Record<string, ReturnType<typeof wrk>[]> = {};
  const addedRounds: Record<string, number[]> = {};
  for (let i = 0; i < ROUNDS; i++) {
    for (const name of i % 2 ? [...orders[0]].reverse() : orders[0]) {
      const t = targets[name];
      (singles[name] ??= []).push(wrk(t.url, { connections: 1, seconds: 2, headers: t.headers }));
    }
    for (const name of Object.keys(targets)) (addedRounds[name] ??= []).push(singles[name]!.at(-1)!.p50_ms - singles.direct!.at(-1)!.p50_ms);
  }
  for (const name of Object.keys(targets)) {
    const loaded = medianRun(runs[name]!);
    const single = medianRun(singles[name]!, (r) => r.p50_ms);
    results[name] = { loaded, rounds: runs[name]!.map((r) => r.rps), single };
    process.stderr.write(`${name.padEnd(10)} ${loaded.rps.toFixed(0).padStart(7)} req/s  p50 ${loaded.p50_ms.toFixed(2)} ms  p99 ${loaded.p99_ms.toFixed(2)} ms  | 1 conn p50 ${single.p50_ms.toFixed(3)} ms  errors ${loaded.errors + single.errors}\n`);
  }

  const key = hmacKey(randomBytes(48).toString('base64url'));
  const jwt = signApiKey(key, 'abcdefghijabcdefghij', 'anon');
  const n = 300_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) verifyJwt(jwt, key);
  const verifiesPerSecond = Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9));

  const added = (name: string) => median(addedRounds[name]!);
  const cpuPerRequest = (name: string) => +(cpu[name]!.micros / cpu[name]!.requests).toFixed(1);
  const summary = {
    gateway_vs_nginx_rps: +median(ratios).toFixed(3),
    gateway_vs_nginx_rps_rounds: ratios.map((r) => +r.toFixed(3)),
    gateway_added_p50_ms_one_connection: +(added('gateway')).toFixed(3),
    // the same for nginx and the bare Node proxy: how much of the gateway's hop the machine and Node cost anyway
    nginx_added_p50_ms_one_connection: +(added('nginx')).toFixed(3),
    node_proxy_added_p50_ms_one_connection: +(added('node_proxy')).toFixed(3),
    node_proxy_vs_nginx_rps: +(results.node_proxy!.loaded.rps / results.nginx!.loaded.rps).toFixed(3),
    raw_proxy_vs_nginx_rps: +(results.raw_proxy!.loaded.rps / results.nginx!.loaded.rps).toFixed(3),
    raw_proxy_added_p50_ms_one_connection: +(added('raw_proxy')).toFixed(3),
    gateway_cpu_us_per_request: cpuPerRequest('gateway'),
    nginx_cpu_us_per_request: cpuPerRequest('nginx'),
    node_proxy_cpu_us_per_request: cpuPerRequest('node_proxy'),
    raw_proxy_cpu_us_per_request: cpuPerRequest('raw_proxy'),
    jwt_verifies_per_second_one_core: verifiesPerSecond,
    targets: { gateway_vs_nginx_rps: '>= 0.6', added_p50_ms: '<= 0.1', jwt_verifies: '>= 50000' }, // #11's lines
  };
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  const path = writeResults('gateway', { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, access_log: process.env.ACCESS_LOG ?? 'false', gateway_workers: Number(process.env.GATEWAY_WORKERS ?? 1), results, summary });
  process.stderr.write(`written to ${path}\n`);
} finally {
  await gateway?.bench.stop();
  for (const c of children) c.kill('SIGTERM');
}
