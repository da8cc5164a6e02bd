// A project over its db_bytes quota stays read-only through REST even after a function of its own lifted the
// read-only default of its session (set_config('default_transaction_read_only', 'off', false), which any
// statement may do, and which outlives the request on its pooled connection): on a read-only project's pool every
// transaction asks for read-only itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, overDbBytesQuota, type TestProject } from '@basalt/testkit';
import { client } from './helpers.js';

let p: TestProject;
let undo: (() => Promise<void>) | undefined;

before(async () => {
  p = await createProject('rest-read-only');
  await p.sql(`
    create table notes (id bigint generated always as identity primary key, body text);
    create policy notes_all on notes for all to anon using (true) with check (true);
    create function lift() returns text language sql volatile as $$ select set_config('default_transaction_read_only', 'off', false) $$;
    grant execute on function lift() to anon;
  `);
});

after(() => undo?.());

test('a function that lifts its session\'s read-only default does not make an over-quota project writable', async () => {
  const sb = client(p);
  undo = await overDbBytesQuota(p, async () => (await sb.from('notes').insert({ body: 'over' })).error?.code === '25006');

  // every pooled connection's session lifted, as far as the function can
  const lifted = await Promise.all(Array.from({ length: 30 }, () => sb.rpc('lift')));
  for (const r of lifted) assert.equal(r.error, null, JSON.stringify(r.error));
  const writes = await Promise.all(Array.from({ length: 30 }, (_, i) => sb.from('notes').insert({ body: `sneaked ${i}` })));
  assert.deepEqual([...new Set(writes.map((w) => w.error?.code))], ['25006']);
  const { data } = await sb.from('notes').select('body');
  assert.deepEqual(data, []);
});
