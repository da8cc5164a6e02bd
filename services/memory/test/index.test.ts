// A project past MEMORY_INDEX_MIN_ROWS (20,000) is searched through the in-process code index: results stay
// right, new memories are found at once (the xid watermark), deleted ones are gone, filters and users still apply.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { memProject, type MemProject } from './setup.js';

let p: MemProject;
before(async () => {
  p = await memProject('mem-index');
  // 21,000 memories of another user with random 64-bit codes (the fake model's dimension), then fresh statistics
  await p.project.sql(`insert into memory.memories (user_id, memory, hash, embedding_model, code)
    select 'noise', 'noise ' || i, md5(i::text), 'mem-embed', ('x' || md5(i::text))::bit(64)::bit varying from generate_series(1, 21000) i;
    analyze memory.memories`);
});
after(async () => p?.close());

test('search in a large project finds, refreshes, forgets and filters', async () => {
  const c = p.client();
  await c.add([{ role: 'user', content: 'Gil is allergic to peanut butter' }, { role: 'user', content: 'Gil plays chess on Sundays' }], { userId: 'gil', infer: false });
  const wide = { OR: [{ user_id: 'gil' }, { user_id: 'noise' }] };
  const first = await c.search('peanut butter allergy', { filters: wide, topK: 3 }) as any;
  assert.equal(first.results[0].memory, 'Gil is allergic to peanut butter');

  // written after the index was built: found through the watermark refresh
  const added = await c.add([{ role: 'user', content: 'Gil learns the cello' }], { userId: 'gil', infer: false }) as any;
  const cello = await c.search('cello lessons', { filters: wide, topK: 1 }) as any;
  assert.equal(cello.results[0].memory, 'Gil learns the cello');
  // updated: the new code replaces the old one
  await c.update(added.results[0].id, { text: 'Gil learns the violin' });
  assert.equal((await c.search('violin', { filters: wide, topK: 1 }) as any).results[0].memory, 'Gil learns the violin');
  // deleted: still in the index until a rebuild, but Postgres no longer admits it
  await c.delete(added.results[0].id);
  assert.ok(!(await c.search('violin', { filters: wide }) as any).results.some((m: any) => m.memory.includes('violin')));

  // a signed-in user sees only their own, whatever the index holds
  const mine = await p.raw('/v3/memories/search/', { key: p.project.token({ sub: 'noise' }), json: { query: 'peanut butter', filters: { user_id: '*' } } });
  assert.equal(mine.status, 200);
  assert.ok(mine.body.results.every((m: any) => m.user_id === 'noise'));
});
