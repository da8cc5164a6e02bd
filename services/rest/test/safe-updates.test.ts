// PATCH and DELETE need a filter, as on Supabase (pg-safeupdate, loaded for every API request): a `.delete()` or
// `.update()` whose filter was forgotten is a 400 21000 and changes nothing, for every role; any filter, even one
// every row matches, is enough; settings.rest.safe_updates false lets them reach every row (what Supabase's
// `alter role authenticator set session_preload_libraries to default` does).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { client, raw } from './helpers.js';

let p: TestProject;
let open: TestProject;

const SCHEMA = `
  create table notes (id int primary key, body text not null);
  create policy anyone on notes for all using (true) with check (true);
  insert into notes values (1, 'a'), (2, 'b'), (3, 'c');
`;

before(async () => {
  [p, open] = await Promise.all([createProject('rest-safe'), createProject('rest-safe-off')]);
  await Promise.all([p.sql(SCHEMA), open.sql(SCHEMA)]);
  await platform(`/projects/${open.ref}`, { method: 'PATCH', json: { settings: { rest: { safe_updates: false } } } });
});

const count = async (t: TestProject) => (await t.sql<{ n: number; bodies: string }>("select count(*)::int as n, string_agg(body, '' order by id) as bodies from notes"))[0];

test('a DELETE without a filter is 400 21000 and deletes nothing, whoever asks', async () => {
  for (const key of [p.anonKey, p.token(), p.serviceKey]) {
    const r = await raw(p, '/notes', { method: 'DELETE', bearer: key });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { code: '21000', message: 'DELETE requires a WHERE clause', details: null, hint: null });
  }
  const { error, count: deleted } = await client(p, p.serviceKey).from('notes').delete({ count: 'exact' });
  assert.equal(error?.code, '21000');
  assert.equal(deleted, null);
  assert.deepEqual(await count(p), { n: 3, bodies: 'abc' });
});

test('a PATCH without a filter is 400 21000 and updates nothing; one that sets nothing is no update to refuse', async () => {
  const r = await raw(p, '/notes', { method: 'PATCH', json: { body: 'x' }, headers: { prefer: 'return=representation' } });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { code: '21000', message: 'UPDATE requires a WHERE clause', details: null, hint: null });
  const { error } = await client(p).from('notes').update({ body: 'y' });
  assert.equal(error?.code, '21000');
  assert.equal((await raw(p, '/notes', { method: 'PATCH', json: {} })).status, 204);
  assert.deepEqual(await count(p), { n: 3, bodies: 'abc' });
});

test('any filter is enough, one that every row matches included', async () => {
  const db = client(p);
  const updated = await db.from('notes').update({ body: 'z' }).eq('id', 1).select();
  assert.equal(updated.error, null);
  assert.deepEqual(updated.data, [{ id: 1, body: 'z' }]);
  const all = await db.from('notes').update({ body: 'w' }).gte('id', 0).select('id');
  assert.equal(all.data?.length, 3);
  const some = await db.from('notes').delete().or('id.eq.2,id.eq.3').select('id');
  assert.deepEqual(some.data, [{ id: 2 }, { id: 3 }]);
  assert.deepEqual(await count(p), { n: 1, bodies: 'w' });
});

test('with settings.rest.safe_updates false, an unfiltered PATCH and DELETE reach every row', async () => {
  await eventually(async () => (await raw(open, '/notes', { method: 'PATCH', json: { body: 'q' } })).status === 204, 10_000, 200);
  assert.deepEqual(await count(open), { n: 3, bodies: 'qqq' });
  const r = await raw(open, '/notes', { method: 'DELETE' });
  assert.equal(r.status, 204);
  assert.deepEqual(await count(open), { n: 0, bodies: null });
});

test('safe_updates takes a boolean only', async () => {
  await assert.rejects(platform(`/projects/${p.ref}`, { method: 'PATCH', json: { settings: { rest: { safe_updates: 'no' } } } }), /safe_updates/);
});
