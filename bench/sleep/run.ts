// bench/sleep: what waking a sleeping project adds to its first request, against the target < 500 ms. Each round
// puts the project to sleep (POST /projects/{ref}/sleep), waits until every service released it (no session left
// on its database), then times the first request through the gateway and compares it with the same request while
// awake (median of several). Measured for a REST read (pool and schema cache rebuilt) and an edge function
// (isolate loaded again).
//   node --import tsx bench/sleep/run.ts   (BENCH_ROUNDS to change the number of rounds)
import pg from 'pg';
import { benchFleet, median, writeResults } from '../lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const bench = await benchFleet('sleep', ['platform', 'gateway', 'rest', 'functions', 'realtime']);

const pick = (xs: number[], f: number) => +[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))].toFixed(1);
const summary = (xs: number[]) => ({ p50: pick(xs, 0.5), p90: pick(xs, 0.9), max: pick(xs, 1) });

try {
  const p = await bench.platform('/projects', { name: 'bench-sleep' });
  await bench.platform(`/projects/${p.ref}/sql`, {
    query: `create table items (id int primary key, name text); insert into items select g, 'item ' || g from generate_series(1, 100) g;
            alter table items enable row level security; create policy read_all on items for select to anon using (true);`,
  });
  await bench.platform(`/projects/${p.ref}/functions`, { slug: 'hello', verify_jwt: false, source: 'Deno.serve(() => Response.json({ ok: true }))' });
  const base = `${bench.fleet.gatewayUrl}/project/${p.ref}`;
  const headers = { apikey: p.anon_key, authorization: `Bearer ${p.anon_key}` };
  const time = async (url: string, init: RequestInit = {}) => {
    const t = performance.now();
    const r = await fetch(url, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    return performance.now() - t;
  };
  const rest = () => time(`${base}/rest/v1/items?select=id,name&id=lt.20`);
  const fn = () => time(`${base}/functions/v1/hello`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  const admin = new pg.Client({ connectionString: bench.databaseUrl });
  await admin.connect();
  const sessions = async () => Number((await admin.query('select count(*) as n from pg_stat_activity where datname = $1', [`proj_${p.ref}`])).rows[0].n);
  const asleep = async () => {
    await bench.platform(`/projects/${p.ref}/sleep`, {});
    for (let i = 0; i < 200 && (await sessions()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
  };

  const added = { rest: [] as number[], functions: [] as number[] };
  const first = { rest: [] as number[], functions: [] as number[] };
  const warm = { rest: [] as number[], functions: [] as number[] };
  for (let i = 0; i < 3; i++) await Promise.all([rest(), fn()]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of [['rest', rest], ['functions', fn]] as const) {
      const awake: number[] = [];
      for (let i = 0; i < 7; i++) awake.push(await call());
      await asleep();
      const cold = await call();
      warm[name].push(median(awake));
      first[name].push(cold);
      added[name].push(cold - median(awake));
    }
  }
  await admin.end();
  const result = {
    rounds: ROUNDS,
    /** the first request after sleep minus the median of the same request while awake */
    wake_added_ms: { rest: summary(added.rest), functions: summary(added.functions) },
    first_request_ms: { rest: summary(first.rest), functions: summary(first.functions) },
    awake_request_ms: { rest: summary(warm.rest), functions: summary(warm.functions) },
    target: { wake_added_ms: 500 },
  };
  process.stderr.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`written to ${writeResults('sleep', result)}\n`);
} finally {
  await bench.stop();
}
