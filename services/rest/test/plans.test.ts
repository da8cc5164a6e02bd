// Execution plans (PostgREST's Accept: application/vnd.pgrst.plan[+json|+text]; for=…; options=…): a 406 unless the
// project sets settings.rest.plan_enabled, then the EXPLAIN of the very statement that would answer the request.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;

before(async () => {
  p = await createProject('rest-plans');
  await p.sql(`
    create table items (id int primary key, name text);
    create policy a on items using (true) with check (true);
    insert into items values (1, 'a'), (2, 'b');
    create function add(a int, b int) returns int language sql immutable as $$ select a + b $$;
  `);
});

const PLAN_JSON = { accept: 'application/vnd.pgrst.plan+json' };

test('off by default: the plan media type is not available (406 PGRST107)', async () => {
  const r = await raw(p, '/items?select=id', { headers: PLAN_JSON });
  assert.equal(r.status, 406);
  assert.deepEqual(r.body, { code: 'PGRST107', message: 'None of these media types are available: application/vnd.pgrst.plan+json; for="application/json"', details: null, hint: null });
  const viaClient = await client(p).from('items').select('id').explain();
  assert.equal(viaClient.status, 406);
});

test('on with settings.rest.plan_enabled: JSON and text plans, for= and options=, through supabase-js too', async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { rest: { plan_enabled: true } } } });
  await eventually(async () => (await raw(p, '/items', { headers: PLAN_JSON })).status === 200);
  const json = await raw(p, '/items?select=id,name&id=eq.1', { headers: PLAN_JSON });
  assert.equal(json.headers.get('content-type'), 'application/vnd.pgrst.plan+json; for="application/json"; charset=utf-8');
  assert.ok(Array.isArray(json.body) && json.body[0].Plan['Node Type'], json.text);
  assert.ok(JSON.stringify(json.body).includes('"Relation Name": "items"') || JSON.stringify(json.body).includes('"Relation Name":"items"'));
  const text = await raw(p, '/items?select=id', { headers: { accept: 'application/vnd.pgrst.plan' } });
  assert.equal(text.status, 200);
  assert.equal(text.headers.get('content-type'), 'application/vnd.pgrst.plan+text; for="application/json"; charset=utf-8');
  assert.match(text.text, /Seq Scan on items|Index .*Scan .* on items/);
  assert.match(text.text, /cost=/);
  const analyzed = await raw(p, '/items?select=id', { headers: { accept: 'application/vnd.pgrst.plan+json; for="text/csv"; options=analyze|verbose' } });
  assert.equal(analyzed.headers.get('content-type'), 'application/vnd.pgrst.plan+json; for="text/csv"; options=analyze|verbose; charset=utf-8');
  const plan = JSON.stringify(analyzed.body);
  assert.ok(plan.includes('Actual Rows') && plan.includes('Output'), plan);
  assert.ok(plan.includes('string_agg'), 'the CSV statement is the one explained');
  const js = await client(p).from('items').select('id').eq('id', 2).explain({ format: 'json', analyze: true });
  assert.equal(js.error, null, JSON.stringify(js.error));
  assert.ok(Array.isArray(js.data) && (js.data as any)[0].Plan);
  const jsText = await client(p).from('items').select('id').explain();
  assert.equal(typeof jsText.data, 'string');
  const rpc = await raw(p, '/rpc/add?a=1&b=2', { headers: PLAN_JSON });
  assert.equal(rpc.status, 200);
  assert.ok(rpc.body[0].Plan);
});

test('a write is explained without running it; analyze runs it, and Prefer: tx=rollback undoes it', async () => {
  const svcHeaders = (accept: string, prefer = 'return=representation') => ({ accept, prefer });
  const plain = await raw(p, '/items', { method: 'POST', bearer: p.serviceKey, json: { id: 3, name: 'c' }, headers: svcHeaders('application/vnd.pgrst.plan+json') });
  assert.equal(plain.status, 200);
  assert.ok(JSON.stringify(plain.body).includes('Insert'));
  assert.deepEqual(await p.sql(`select count(*)::int as n from items where id = 3`), [{ n: 0 }]);
  const rolledBack = await raw(p, '/items', { method: 'POST', bearer: p.serviceKey, json: { id: 4, name: 'd' }, headers: svcHeaders('application/vnd.pgrst.plan+json; options=analyze', 'tx=rollback') });
  assert.equal(rolledBack.status, 200);
  assert.deepEqual(await p.sql(`select count(*)::int as n from items where id = 4`), [{ n: 0 }]);
  const committed = await raw(p, '/items', { method: 'POST', bearer: p.serviceKey, json: { id: 5, name: 'e' }, headers: svcHeaders('application/vnd.pgrst.plan+text; options=analyze') });
  assert.equal(committed.status, 200);
  assert.deepEqual(await p.sql(`select count(*)::int as n from items where id = 5`), [{ n: 1 }]);
});

test('bad plan requests are 4xx: an unavailable for= type, an option Postgres refuses', async () => {
  const badFor = await raw(p, '/items', { headers: { accept: 'application/vnd.pgrst.plan+json; for="text/xml"' } });
  assert.equal(badFor.status, 406);
  assert.equal(badFor.body.code, 'PGRST107');
  const wal = await raw(p, '/items', { headers: { accept: 'application/vnd.pgrst.plan+json; options=wal' } });
  assert.equal(wal.status, 400);
  assert.match(wal.body.message, /WAL requires ANALYZE/);
});
