// bench/functions: edge functions on workerd (a dispatcher worker loading each version through the Worker Loader),
// in one run, through the gateway:
//   1. a warm function against a static route (auth's /settings) at 64 connections and at one connection;
//   2. cold start of a new version: deploy, then time the first call;
//   3. 1,000 versions across 100 projects called round-robin: latency, and the workerd processes' memory, which
//      stays bounded because a process that has loaded FUNCTIONS_MAX_ISOLATES versions is replaced.
// Targets: ratio ≥ 0.3, added p50 ≤ 1 ms, cold start median < 50 ms and p99 < 150 ms, round-robin p99 < 50 ms.
// Writes bench/results/functions.json.
//   node --import tsx bench/functions/run.ts        (BENCH_SECONDS=8, BENCH_PROJECTS=100, BENCH_VERSIONS=1000)
import { benchFleet, requireTool, writeResults, wrk } from '../lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const PROJECTS = Number(process.env.BENCH_PROJECTS ?? 100);
const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 1000);
const COLD = Number(process.env.BENCH_COLD ?? 30);
requireTool('wrk', 'wrk');
const bench = await benchFleet('fn', ['platform', 'gateway', 'auth', 'functions'], {
  FUNCTIONS_PROJECT_RPS: '1000000', FUNCTIONS_FUNCTION_RPS: '1000000', RATE_LIMIT_RPS: '1000000',
});

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2);
};

/** resident memory and isolates of every workerd process, from the functions service's /metrics */
async function workerd(): Promise<{ rss_mb: number; isolates: number; processes: number }> {
  const text = await (await fetch(`${bench.fleet.urls.functions}/metrics`)).text();
  const sum = (name: string) => [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} ([\\d.e+]+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  return { rss_mb: Math.round(sum('functions_workerd_rss_bytes') / 1048576), isolates: sum('functions_workerd_isolates'), processes: [...text.matchAll(/^functions_workerd_isolates\{/gm)].length };
}

async function timed(url: string, headers: Record<string, string>): Promise<number> {
  const t = performance.now();
  const r = await fetch(url, { headers });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return performance.now() - t;
}

/** runs fn over items with `n` at a time */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

try {
  const p = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: 'bench-fn' });
  await bench.platform(`/projects/${p.ref}`, { settings: { rate_limit_rps: 1_000_000 } }, 'PATCH');
  await bench.platform(`/projects/${p.ref}/functions`, { slug: 'hello', source: `Deno.serve(() => Response.json({ ok: true }))` });
  const base = `${bench.fleet.gatewayUrl}/project/${p.ref}`;
  const headers = { apikey: p.anon_key, authorization: `Bearer ${p.anon_key}` };
  for (let i = 0; i < 3; i++) await timed(`${base}/functions/v1/hello`, headers); // past probation, warm in its shard

  // 1. warm
  const targets = { static: `${base}/auth/v1/settings`, function: `${base}/functions/v1/hello` };
  const results: Record<string, { loaded: ReturnType<typeof wrk>; single: ReturnType<typeof wrk> }> = {};
  for (const [name, url] of Object.entries(targets)) {
    wrk(url, { connections: 8, seconds: 2, headers });
    results[name] = { loaded: wrk(url, { connections: 64, seconds: SECONDS, headers }), single: wrk(url, { connections: 1, seconds: Math.max(3, SECONDS / 2), headers }) };
    process.stderr.write(`${name.padEnd(9)} ${results[name].loaded.rps.toFixed(0).padStart(6)} req/s  p50 ${results[name].loaded.p50_ms} ms (${results[name].loaded.errors} errors) | 1 conn p50 ${results[name].single.p50_ms} ms\n`);
  }

  // 2. cold start of a new version
  const cold: number[] = [];
  for (let v = 0; v < COLD; v++) {
    await bench.platform(`/projects/${p.ref}/functions`, { slug: 'hello', source: `Deno.serve(() => Response.json({ ok: true, v: ${v} }))` });
    cold.push(await timed(`${base}/functions/v1/hello`, headers));
  }
  process.stderr.write(`cold start: median ${pct(cold, 50)} ms, p99 ${pct(cold, 99)} ms\n`);

  // 3. many versions across many projects, round-robin
  const t0 = performance.now();
  const projects: { ref: string; anon_key: string }[] = [];
  await pool(Array.from({ length: PROJECTS }, (_, i) => i), 4, async (i) => {
    const q = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: `bench-fn-${i}` });
    await bench.platform(`/projects/${q.ref}`, { settings: { rate_limit_rps: 1_000_000 } }, 'PATCH');
    projects.push(q);
  });
  const perProject = Math.ceil(VERSIONS / PROJECTS);
  const calls: { url: string; headers: Record<string, string> }[] = [];
  await pool(projects.flatMap((q) => Array.from({ length: perProject }, (_, j) => ({ q, j }))), 6, async ({ q, j }) => {
    await bench.platform(`/projects/${q.ref}/functions`, { slug: `f${j}`, source: `const big = ${JSON.stringify('x'.repeat(2000))}; Deno.serve(() => Response.json({ fn: ${j}, n: big.length }))` });
  });
  for (let j = 0; j < perProject; j++) for (const q of projects) calls.push({ url: `${bench.fleet.gatewayUrl}/project/${q.ref}/functions/v1/f${j}`, headers: { apikey: q.anon_key, authorization: `Bearer ${q.anon_key}` } });
  process.stderr.write(`set up ${projects.length} projects, ${calls.length} versions in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const first: number[] = [];
  await pool(calls, 4, async (c) => void first.push(await timed(c.url, c.headers)));
  const memory: { rss_mb: number; isolates: number; processes: number }[] = [await workerd()];
  const rounds: number[] = [];
  for (let round = 0; round < 2; round++) {
    await pool(calls, 4, async (c) => void rounds.push(await timed(c.url, c.headers)));
    memory.push(await workerd());
  }
  process.stderr.write(`round-robin over ${calls.length} versions: first call p50 ${pct(first, 50)} ms p99 ${pct(first, 99)} ms; later rounds p50 ${pct(rounds, 50)} ms p99 ${pct(rounds, 99)} ms; workerd ${JSON.stringify(memory)}\n`);

  const summary = {
    warm_rps_ratio_vs_static: +(results.function.loaded.rps / results.static.loaded.rps).toFixed(3),
    warm_added_p50_ms_one_connection: +(results.function.single.p50_ms - results.static.single.p50_ms).toFixed(3),
    cold_start_ms: { median: pct(cold, 50), p99: pct(cold, 99), samples: cold.length },
    round_robin: {
      versions: calls.length, projects: projects.length,
      first_call_ms: { p50: pct(first, 50), p99: pct(first, 99) },
      warm_rounds_ms: { p50: pct(rounds, 50), p99: pct(rounds, 99) },
      workerd_after_each_round: memory,
    },
    targets: { warm_rps_ratio_vs_static: '>= 0.3', warm_added_p50_ms_one_connection: '<= 1', cold_start_ms: 'median < 50, p99 < 150', round_robin_p99_ms: '< 50, memory bounded' },
  };
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.stderr.write(`written to ${writeResults('functions', { seconds: SECONDS, results, summary })}\n`);
} finally {
  await bench.stop();
}
