// The small-request half of bench/storage, through the gateway with wrk at 64 connections: authenticated 4 KB
// downloads, a 100-entry list page of a 1,000-object folder (supabase-js `list`), storage's own /health, and a 4 KB published asset
// against nginx serving the same file from disk in the same run. Each with the storage service's CPU per request
// (utime+stime of its process around the wrk run), the figure the service's cost is judged by.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cpuMicros, median, medianRun, requireTool } from '../lib.js';

const CONNECTIONS = 64;
const FOLDER_OBJECTS = 1000;
const SMALL = 4096;
/** alternated rounds of the asset against nginx */
const ROUNDS = 3;
export interface WrkRun {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
}

const toMs = (m: RegExpExecArray | null) => (m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN);

/** One wrk run (optionally with a Lua script), parsed; any non-2xx answer or socket error is counted. */
export function wrkRun(url: string, opts: { seconds: number; connections: number; headers?: Record<string, string>; script?: string }): WrkRun {
  const args = ['-t', '1', '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency'];
  if (opts.script) args.push('-s', opts.script);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  const text = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const socketErrors = /Socket errors: (.*)/.exec(text)?.[1] ?? '';
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50_ms: toMs(/\s50%\s+([\d.]+)(us|ms|s)/.exec(text)),
    p99_ms: toMs(/\s99%\s+([\d.]+)(us|ms|s)/.exec(text)),
    requests: Number(/(\d+) requests in /.exec(text)?.[1] ?? 0),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0)
      + socketErrors.split(',').reduce((n, part) => n + Number(/\d+/.exec(part)?.[0] ?? 0), 0),
  };
}

/** A wrk run with the CPU the given processes spent during it, per request. */
function measured(pids: Record<string, number>, run: () => WrkRun) {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMicros(pid) / 1000]));
  const r = run();
  const perRequest = (name: string) => +((cpuMicros(pids[name]) / 1000 - before[name]) / Math.max(r.requests, 1)).toFixed(3);
  return { ...r, rps: Math.round(r.rps), cpu_ms_per_request: Object.fromEntries(Object.keys(pids).map((n) => [n, perRequest(n)])) };
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  }).on('error', reject);
});

/** nginx in the foreground serving `root` on a free port, one worker (as storage is one process); stop() ends it. */
async function startNginx(dir: string, root: string) {
  requireTool('nginx', 'nginx');
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  default_type application/octet-stream;
  sendfile on;
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode} (see ${dir}/error.log)`);
    if (await fetch(url).then(() => true, () => false)) break;
    if (i > 100) throw new Error('nginx did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGQUIT');
  });
  return { url, pid: child.pid!, stop };
}

async function ok(r: Promise<Response>, what: string): Promise<Response> {
  const res = await r;
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

export interface SmallReadsContext {
  gatewayUrl: string;
  /** the storage service itself, for single-connection latency without the gateway */
  storageUrl: string;
  ref: string;
  auth: Record<string, string>;
  /** pids whose CPU is measured per request: storage first, and the gateway */
  pids: { storage: number; gateway: number };
  work: string;
  seconds: number;
  /** the cases to run (download, list, asset, health), all when absent: one alone for a CPU profile */
  cases?: string[];
}

export async function smallReads({ gatewayUrl, storageUrl, ref, auth, pids, work, seconds, cases }: SmallReadsContext) {
  const run = (name: 'download' | 'list' | 'asset' | 'health') => !cases || cases.includes(name);
  const base = `${gatewayUrl}/project/${ref}/storage/v1`;
  const body = 'x'.repeat(SMALL);
  await ok(fetch(`${base}/bucket`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'reads' }) }), 'create bucket');
  const put = (name: string) => ok(fetch(`${base}/object/reads/${name}`, {
    method: 'POST', headers: { ...auth, 'content-type': 'text/plain', 'x-upsert': 'true' }, body,
  }), `upload ${name}`);
  await put('one.txt');
  for (let i = 0; i < FOLDER_OBJECTS; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, FOLDER_OBJECTS - i) }, (_, j) => put(`folder/file-${String(i + j).padStart(4, '0')}.txt`)));
  }
  await ok(fetch(`${gatewayUrl}/project/${ref}/assets/admin/v1/upload`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ files: [{ path: 'small.txt', content: body }] }),
  }), 'publish asset');

  const download = run('download') && measured(pids, () => wrkRun(`${base}/object/authenticated/reads/one.txt`, { seconds, connections: CONNECTIONS, headers: auth }));

  const listScript = join(work, 'list.lua');
  writeFileSync(listScript, `
wrk.method = "POST"
wrk.body = '{"prefix":"folder","limit":100,"offset":0,"sortBy":{"column":"name","order":"asc"}}'
`);
  const listed = await ok(fetch(`${base}/object/list/reads`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: readFileSync(listScript, 'utf8').split("'")[1],
  }), 'list').then((r) => r.json() as Promise<unknown[]>);
  if (listed.length !== 100) throw new Error(`list returned ${listed.length} entries, not 100`);
  const list = run('list') && measured(pids, () => wrkRun(`${base}/object/list/reads`, {
    seconds, connections: CONNECTIONS, script: listScript, headers: { ...auth, 'content-type': 'application/json' },
  }));

  // the service's own floor, straight to it: /health at the same concurrency (what its V8 flags are judged by too)
  const health = run('health') && measured({ storage: pids.storage }, () => wrkRun(`${storageUrl}/health`, { seconds, connections: CONNECTIONS }));

  if (!run('asset')) return { connections: CONNECTIONS, download_4kb: download, list_100_of_1000: list, health_direct: health };
  // the same 4 KB from disk, served by nginx (its worker's CPU per request is measured the same way)
  const site = join(work, 'nginx');
  mkdirSync(join(site, 'root'), { recursive: true });
  writeFileSync(join(site, 'root', 'small.txt'), body);
  for (const d of [work, site, join(site, 'root')]) chmodSync(d, 0o755); // nginx's worker runs as another user
  const nginx = await startNginx(site, join(site, 'root'));
  let asset;
  let fromDisk;
  let oneConnection;
  const ratios: number[] = [];
  try {
    const workerPid = Number(execFileSync('pgrep', ['-P', String(nginx.pid)], { encoding: 'utf8' }).trim().split('\n')[0]);
    // the asset through the gateway and nginx from disk alternate in rounds, each one's median run counting: the
    // machine drifts by ±30 % between minutes, and one run of each after the other read a ratio of 0.13 in one
    // run and 0.40 in the next
    const roundSeconds = Math.max(2, Math.round(seconds / ROUNDS));
    const assets: ReturnType<typeof measured>[] = [];
    const disks: ReturnType<typeof measured>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      assets.push(measured(pids, () => wrkRun(`${gatewayUrl}/project/${ref}/assets/v1/small.txt`, { seconds: roundSeconds, connections: CONNECTIONS })));
      disks.push(measured({ nginx: workerPid }, () => wrkRun(`${nginx.url}/small.txt`, { seconds: roundSeconds, connections: CONNECTIONS })));
      ratios.push(assets[i]!.rps / disks[i]!.rps);
    }
    asset = medianRun(assets);
    fromDisk = medianRun(disks);
    // one connection straight to the service: the latency of a read against that of its own /health
    const direct = { seconds: Math.min(seconds, 3), connections: 1, headers: { 'x-basalt-ref': ref } };
    oneConnection = {
      asset_p50_ms: wrkRun(`${storageUrl}/assets/v1/small.txt`, direct).p50_ms,
      health_p50_ms: wrkRun(`${storageUrl}/health`, direct).p50_ms,
    };
  } finally {
    await nginx.stop();
  }
  return {
    connections: CONNECTIONS,
    download_4kb: download,
    list_100_of_1000: list,
    health_direct: health,
    asset_4kb: asset,
    storage_direct_one_connection: oneConnection,
    nginx_4kb: fromDisk,
    asset_ratio_vs_nginx: +median(ratios).toFixed(3),
    asset_ratio_vs_nginx_rounds: ratios.map((r) => +r.toFixed(3)),
    targets: { storage_cpu_ms_per_request: '<= 1.5', asset_ratio_vs_nginx: '>= 0.3' },
  };
}
