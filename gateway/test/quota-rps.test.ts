// The plan's requests_per_second at the gateway: over it, 429 in the API's own shape naming the quota, with
// Retry-After and X-RateLimit-* headers; it caps a project's own rate_limit_rps; a plan change lifts it at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createProject, eventually, platform, supabaseClient, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const plan = `t-rps-${randomBytes(4).toString('hex')}`;
let p: TestProject;

const burst = (n: number) => Promise.all(Array.from({ length: n }, () =>
  fetch(`${p.url}/rest/v1/items?select=id`, { headers: { apikey: p.anonKey } }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.text() }))));

before(async () => {
  p = await createProject('rps');
  await p.sql(`create table items (id int primary key); create policy read_all on items for select to anon using (true)`);
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { requests_per_second: 3 } } });
  // the project's own setting asks for more: the plan's quota wins
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan, settings: { rate_limit_rps: 1000 } } });
});

after(async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
  await fetch(`${env.gatewayUrl}/platform/v1/plans/${plan}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
});

test('over requests_per_second: 429 in PostgREST shape naming the quota, with Retry-After and X-RateLimit headers', async () => {
  // start of a fresh second, so the burst lands in as few windows as the machine allows
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));
  const started = Math.floor(Date.now() / 1000);
  const results = await burst(20);
  // a loaded machine may spread the burst over several one-second windows: each admits at most 3
  const windows = Math.floor(Date.now() / 1000) - started + 1;
  const ok = results.filter((r) => r.status === 200).length;
  const limited = results.filter((r) => r.status === 429);
  assert.ok(ok >= 1 && ok <= 3 * windows, `${ok} passed in ${windows} windows`);
  assert.ok(limited.length >= 1, 'some were limited');
  const first = limited[0];
  assert.equal(first.headers.get('retry-after'), '1');
  assert.equal(first.headers.get('x-ratelimit-limit'), '3');
  assert.equal(first.headers.get('x-ratelimit-remaining'), '0');
  const body = JSON.parse(first.body);
  assert.equal(body.code, 'requests_per_second');
  assert.match(body.message, /3 requests per second/);
  assert.ok('details' in body && 'hint' in body, 'PostgREST error shape');
});

test('supabase-js sees the quota error; a plan change lifts the limit without a restart', async () => {
  const supabase = supabaseClient(p);
  const limited = (await eventually(async () => {
    const replies = await Promise.all(Array.from({ length: 8 }, () => supabase.from('items').select('id')));
    return replies.find((r) => r.status === 429) ?? null;
  }, 20_000, 100))!;
  assert.equal(limited.error?.code, 'requests_per_second');

  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
  await eventually(async () => {
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));
    return (await burst(20)).every((r) => r.status === 200);
  }, 20_000, 0);
});
