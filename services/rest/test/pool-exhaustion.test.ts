// A project's REST pool held whole by slow calls (catalogue R8, X3): requests refused for what they are (a bad
// token, a bad filter, an unknown embed, a preflight) are answered at once without a connection; a good one waits
// for the pool's acquisition timeout and gets PostgREST's 504 PGRST003; the service stays healthy; the pool is the
// project's alone (another project is served meanwhile) and serves again once the slow calls end.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import pg from 'pg';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';

const POOL = Number(testEnv().fleetEnv.PROJECT_POOL_MAX ?? 10);
const HOLD_S = 9;
let p: TestProject;
let other: TestProject;
before(async () => {
  [p, other] = await Promise.all([createProject('rest-pool-held'), createProject('rest-pool-other')]);
  await p.sql(`create table public.items (id int primary key, body text); insert into public.items values (1, 'one');
    create table public.tags (id int primary key, item_id int references public.items, name text);
    grant select on public.items, public.tags to anon;
    create policy r on public.items for select to anon using (true);
    create function public.hold(s double precision) returns int language sql as $$ select 1 from pg_sleep(s) $$;`);
  await other.sql(`create table public.items (id int primary key); insert into public.items values (7); create policy r on public.items for select to anon using (true);`);
});

const rest = (q: TestProject, path: string, init: RequestInit = {}, key = q.serviceKey) => fetch(`${q.url}/rest/v1/${path}`, {
  ...init, headers: { apikey: key, authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
});
const timed = async (r: Promise<Response>) => {
  const started = performance.now();
  const res = await r;
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - started };
};

test('with every connection held, bad requests are answered at once, a good one is 504 PGRST003, and the pool recovers', async () => {
  assert.equal((await timed(rest(p, 'items?select=id,tags(name)'))).status, 200, 'the schema cache is warm');
  const holds = Array.from({ length: POOL }, () => timed(rest(p, 'rpc/hold', { method: 'POST', body: JSON.stringify({ s: HOLD_S }) })));
  const [{ db }] = await p.sql<{ db: string }>('select current_database() as db');
  const admin = new pg.Client({ connectionString: testEnv().databaseUrl });
  await admin.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows: [{ n }] } = await admin.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'basalt-rest' and state = 'active' and query like '%hold%'`, [db]);
      if (n >= POOL) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.end();
  }

  const refused = {
    'a bad token': await timed(rest(p, 'items', {}, `${p.anonKey.slice(0, -4)}AAAA`)),
    'a bad filter': await timed(rest(p, 'items?id=nope.1')),
    'an unknown embed': await timed(rest(p, 'items?select=id,nothere(*)')),
    'a bad body': await timed(rest(p, 'items', { method: 'POST', body: '{"id":' })),
    'a preflight': await timed(fetch(`${p.url}/rest/v1/items`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } })),
  };
  for (const [what, r] of Object.entries(refused)) {
    assert.ok(r.status < 500, `${what}: ${r.status} ${r.body}`);
    assert.ok(r.ms < 500, `${what} answered in ${Math.round(r.ms)} ms, without waiting for a connection`);
  }
  assert.equal(refused['a bad filter'].status, 400);
  assert.equal(refused['an unknown embed'].status, 400);

  const [good, elsewhere, health] = await Promise.all([
    timed(rest(p, 'items?select=id')),
    timed(rest(other, 'items?select=id')),
    timed(fetch(`${testEnv().services.rest}/health`)),
  ]);
  assert.equal(good.status, 504, `${good.body} after ${Math.round(good.ms)} ms`);
  assert.equal(JSON.parse(good.body).code, 'PGRST003');
  assert.ok(good.ms < HOLD_S * 1000, 'it did not wait for the slow calls to end');
  assert.equal(elsewhere.status, 200, 'another project is served meanwhile');
  assert.ok(elsewhere.ms < 1_000);
  assert.equal(health.status, 200);

  for (const h of await Promise.all(holds)) assert.equal(h.status, 200, h.body);
  assert.equal((await timed(rest(p, 'items?select=id'))).status, 200, 'served again once the pool is free');
});
