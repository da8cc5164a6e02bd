// bench/functions: warm invocations/s and p50 of a trivial function through the gateway, against a static
// route through the same gateway (auth's /settings), and the cold start of a new version — in one run.
// Targets: warm overhead ≤ 2 ms at p50, cold start < 100 ms. Writes bench/results/functions.json.
//   node --import tsx bench/functions/run.ts
import { benchFleet, requireTool, writeResults, wrk } from '../lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
requireTool('wrk', 'wrk');
const bench = await benchFleet('fn', ['platform', 'gateway', 'auth', 'functions'], { FUNCTIONS_PROJECT_RPS: '1000000', FUNCTIONS_FUNCTION_RPS: '1000000' });

try {
  const p = await bench.platform<{ ref: string; anon_key: string }>('/projects', { name: 'bench-fn' });
  await bench.platform(`/projects/${p.ref}`, { settings: { rate_limit_rps: 1_000_000 } }, 'PATCH');
  await bench.platform(`/projects/${p.ref}/functions`, { slug: 'hello', source: `Deno.serve(() => Response.json({ ok: true }))` });
  const base = `${bench.fleet.gatewayUrl}/project/${p.ref}`;
  const headers = { apikey: p.anon_key, authorization: `Bearer ${p.anon_key}` };
  await fetch(`${base}/functions/v1/hello`, { method: 'GET', headers }); // boot the isolate

  const targets = { static: `${base}/auth/v1/settings`, function: `${base}/functions/v1/hello` };
  const results: Record<string, { loaded: ReturnType<typeof wrk>; single: ReturnType<typeof wrk> }> = {};
  for (const [name, url] of Object.entries(targets)) {
    wrk(url, { connections: 8, seconds: 2, headers });
    results[name] = { loaded: wrk(url, { connections: 32, seconds: SECONDS, headers }), single: wrk(url, { connections: 1, seconds: Math.max(3, SECONDS / 2), headers }) };
    process.stderr.write(`${name.padEnd(9)} ${results[name].loaded.rps.toFixed(0).padStart(6)} req/s  p50 ${results[name].loaded.p50_ms} ms | 1 conn p50 ${results[name].single.p50_ms} ms\n`);
  }

  const cold: number[] = [];
  for (let v = 0; v < 5; v++) {
    await bench.platform(`/projects/${p.ref}/functions`, { slug: 'hello', source: `Deno.serve(() => Response.json({ ok: true, v: ${v} }))` });
    const t = performance.now();
    await (await fetch(`${base}/functions/v1/hello`, { method: 'GET', headers })).text();
    cold.push(performance.now() - t);
  }
  cold.sort((x, y) => x - y);
  const summary = {
    warm_overhead_p50_ms_one_connection: +(results.function.single.p50_ms - results.static.single.p50_ms).toFixed(3),
    warm_rps_ratio_vs_static: +(results.function.loaded.rps / results.static.loaded.rps).toFixed(3),
    cold_start_ms: { median: +cold[2].toFixed(1), max: +cold[4].toFixed(1) },
    targets: { warm_overhead_p50_ms: '<= 2', cold_start_ms: '< 100' },
  };
  process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.stderr.write(`written to ${writeResults('functions', { seconds: SECONDS, results, summary })}\n`);
} finally {
  await bench.stop();
}
