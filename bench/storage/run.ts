// bench/storage: in one run, a 256 MB object up and down through the gateway (curl, file to file) against
// copying the same bytes on local disk (the ceiling: the faster of dd and a one-stream Node copy, per round), the storage service's peak RSS meanwhile, and 4 KB
// uploads/s (wrk) against listing buckets (one query, the per-request floor); then small reads (small-reads.ts).
// Targets: download ≥ 50% of the disk ceiling, upload ≥ 30%, peak RSS < 150 MB. Writes bench/results/storage.json.
//   node --import tsx bench/storage/run.ts
//   BENCH_ONLY=small node --import tsx bench/storage/run.ts    the small reads alone (the other figures in the file stay)
//   BENCH_SMALL_CASES=list                                       only those small reads (download, list, asset, health), to profile one
//   BENCH_STORAGE_NODE_ARGS="--max-semi-space-size=16"           storage's node flags for this run instead of the fleet's
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { SERVICES } from '@basalt/fleet';
import { benchFleet, median, requireTool, writeResults, wrk } from '../lib.js';
import { smallReads } from './small-reads.js';

const MB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_OBJECT_MB ?? 256) * MB;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ONLY_SMALL = process.env.BENCH_ONLY === 'small';
const resultsFile = fileURLToPath(new URL('../results/storage.json', import.meta.url));
requireTool('wrk', 'wrk');
requireTool('curl', 'curl');

// an A/B of the storage service's V8 flags (packages/fleet sets them): BENCH_STORAGE_NODE_ARGS="--max-semi-space-size=16"
if (process.env.BENCH_STORAGE_NODE_ARGS !== undefined) {
  SERVICES.find((s) => s.name === 'storage')!.nodeArgs = process.env.BENCH_STORAGE_NODE_ARGS.split(' ').filter(Boolean);
}
const work = mkdtempSync(join(tmpdir(), 'basalt-bench-storage-'));
const bench = await benchFleet('storage', ['platform', 'gateway', 'storage'], { STORAGE_FS_ROOT: join(work, 'root') });

/** resident memory of a process in bytes, from /proc */
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

function watchRss(pid: number) {
  let peak = rssOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 25);
  return () => (clearInterval(timer), peak);
}

const mbps = (bytes: number, seconds: number) => +(bytes / MB / seconds).toFixed(1);
/** every timed copy starts with no dirty pages waiting for write-back, so none pays for another's */
const settle = () => execFileSync('sync');

try {
  const p = await bench.platform<{ ref: string; service_role_key: string }>('/projects', { name: 'bench-storage' });
  await bench.platform(`/projects/${p.ref}`, { settings: { rate_limit_rps: 1_000_000 } }, 'PATCH');
  const base = `${bench.fleet.gatewayUrl}/project/${p.ref}/storage/v1`;
  const auth = { authorization: `Bearer ${p.service_role_key}`, apikey: p.service_role_key };
  for (const id of ['big', 'small']) {
    const r = await fetch(`${base}/bucket`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    if (!r.ok) throw new Error(`create bucket: ${await r.text()}`);
  }
  const pid = bench.fleet.processes.get('storage')!.pid!;
  const idleRss = rssOf(pid);
  // the large transfers first, on a fresh process, as before the small reads were added
  const large = ONLY_SMALL ? null : await transfers(p.ref, base, auth, pid, idleRss);
  const small = await smallReads({
    gatewayUrl: bench.fleet.gatewayUrl!, storageUrl: bench.fleet.urls.storage, ref: p.ref, auth, work, seconds: SECONDS, cases: process.env.BENCH_SMALL_CASES?.split(','),
    pids: { storage: pid, gateway: bench.fleet.processes.get('gateway')!.pid! },
  });
  process.stderr.write(`${JSON.stringify(small, null, 2)}\n`);
  // a small-only run keeps the large-transfer figures of the last full run
  const previous: Record<string, unknown> = large ?? (existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {});
  delete previous.at;
  process.stderr.write(`written to ${writeResults('storage', { ...previous, small_reads: small })}\n`);
} finally {
  await bench.stop();
  rmSync(work, { recursive: true, force: true });
}

/** The 256 MB transfers against the disk, then 4 KB uploads against listing buckets. */
async function transfers(ref: string, base: string, auth: Record<string, string>, pid: number, idleRss: number) {
  const src = join(work, 'object.bin');
  const block = randomBytes(MB);
  writeFileSync(src, Buffer.alloc(0));
  const out = createWriteStream(src);
  for (let i = 0; i < SIZE / MB; i++) if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(() => r()));

  const copy: number[] = [];
  const nodeCopy: number[] = [];
  const up: number[] = [];
  const down: number[] = [];
  let peakBig = idleRss;
  for (let round = 0; round < ROUNDS; round++) {
    // the ceiling: the same bytes copied on this disk by dd (1 MB blocks, as the service streams them)
    settle();
    let t = performance.now();
    execFileSync('dd', [`if=${src}`, `of=${join(work, 'copy.bin')}`, 'bs=1M'], { stdio: 'ignore' });
    copy.push(mbps(SIZE, (performance.now() - t) / 1000));
    rmSync(join(work, 'copy.bin'));
    // for reference: one Node stream doing the same copy (what a single JS process reaches)
    settle();
    t = performance.now();
    await pipeline(createReadStream(src, { highWaterMark: MB }), createWriteStream(join(work, 'copy.bin')));
    nodeCopy.push(mbps(SIZE, (performance.now() - t) / 1000));
    rmSync(join(work, 'copy.bin'));

    const stop = watchRss(pid);
    const curl = (args: string[]) => Number(execFileSync('curl', ['-sS', '--fail-with-body', '-o', '/dev/null', '-w', '%{time_total}', ...Object.entries(auth).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), ...args], { encoding: 'utf8' }));
    settle();
    up.push(mbps(SIZE, curl(['-X', 'POST', '-H', 'x-upsert: true', '-H', 'content-type: application/octet-stream', '-T', src, `${base}/object/big/object.bin`])));
    settle();
    t = performance.now();
    execFileSync('curl', ['-sS', '--fail', '-o', join(work, 'down.bin'), ...Object.entries(auth).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${base}/object/big/object.bin`]);
    down.push(mbps(SIZE, (performance.now() - t) / 1000));
    rmSync(join(work, 'down.bin'));
    peakBig = Math.max(peakBig, stop());
    process.stderr.write(`round ${round + 1}: dd ${copy[round]} MB/s, node stream copy ${nodeCopy[round]} MB/s, upload ${up[round]} MB/s, download ${down[round]} MB/s, storage peak RSS ${Math.round(peakBig / MB)} MB\n`);
  }

  // 4 KB uploads, each to a new name, against a one-query request through the same path
  const script = join(work, 'small.lua');
  writeFileSync(script, `
local body = string.rep("x", 4096)
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/project/${ref}/storage/v1/object/small/" .. math.random(1, 1000000000) .. "-" .. n .. ".bin", nil, body)
end
`);
  const headers = { ...auth, 'content-type': 'application/octet-stream' };
  const floor = wrk(`${base}/bucket`, { connections: 16, seconds: SECONDS, headers });
  const stopSmall = watchRss(pid);
  const small = wrkScript(`${bench.fleet.gatewayUrl}`, script, headers);
  const peakSmall = stopSmall();

  // the disk ceiling moves a lot between rounds (page cache, write-back): each round is compared with its own
  // ceiling, the faster of dd and the Node stream copy
  const ceiling = copy.map((c, i) => Math.max(c, nodeCopy[i]));
  const summary = {
    object_mb: SIZE / MB,
    disk_copy_mb_s: median(copy),
    node_stream_copy_mb_s: median(nodeCopy),
    upload_mb_s: median(up),
    download_mb_s: median(down),
    disk_ceiling_mb_s: median(ceiling),
    upload_ratio_vs_disk: +median(up.map((u, i) => u / ceiling[i])).toFixed(3),
    download_ratio_vs_disk: +median(down.map((d, i) => d / ceiling[i])).toFixed(3),
    storage_rss_mb: { idle: Math.round(idleRss / MB), peak_large_object: Math.round(peakBig / MB), peak_small_uploads: Math.round(peakSmall / MB) },
    small_4kb_uploads_per_s: small.rps,
    small_4kb_upload_p99_ms: small.p99_ms,
    list_buckets_per_s: floor.rps,
    small_upload_ratio_vs_list_buckets: +(small.rps / floor.rps).toFixed(3),
    targets: { download_ratio_vs_disk: '>= 0.5', upload_ratio_vs_disk: '>= 0.3', storage_peak_rss_mb: '< 150' },
  };
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  return { rounds: { dd: copy, node_copy: nodeCopy, up, down }, small, floor, summary };
}

function wrkScript(url: string, script: string, headers: Record<string, string>) {
  const args = ['-t', '1', '-c', '16', '-d', `${SECONDS}s`, '--latency', '-s', script];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const text = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(text);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  return { rps, p99_ms: p99 ? Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1) : NaN, errors };
}
