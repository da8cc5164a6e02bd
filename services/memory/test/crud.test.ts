// Access and management with the unmodified mem0ai clients (3.x paths and 2.x paths), infer=false.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { platform } from '@basalt/testkit';
import { memProject, type MemProject } from './setup.js';

let a: MemProject;
let b: MemProject;
before(async () => {
  [a, b] = await Promise.all([memProject('mem-crud-a'), memProject('mem-crud-b', { models: 'none' })]);
});
after(async () => {
  await a?.close();
  await b?.close();
});

test('ping answers ok with the project, for the service key and an AI key; bad keys are refused', async () => {
  await a.client().ping();
  assert.equal((await a.raw('/v1/ping/')).body.status, 'ok');
  assert.equal((await a.raw('/v1/ping/', { key: a.aiKey })).body.project_id, a.project.ref);
  assert.equal((await a.raw('/v1/ping/', { key: a.project.serviceKey, scheme: 'Bearer' })).status, 200);
  assert.equal((await a.raw('/v1/ping/', { key: null })).status, 401);
  assert.equal((await a.raw('/v1/ping/', { key: 'bsk_nope' })).status, 401);
  assert.equal((await a.raw('/v1/ping/', { key: a.project.anonKey })).status, 403);
  // another project's keys on this project's URL
  assert.equal((await a.raw('/v1/ping/', { key: b.aiKey })).status, 401);
  assert.equal((await a.raw('/v1/ping/', { key: b.project.serviceKey })).status, 401);
});

test('3.x client: add (infer=false), get, getAll, update re-embeds, history, delete', async () => {
  const c = a.client();
  const added = await c.add([{ role: 'user', content: 'I love hiking in the Alps' }, { role: 'assistant', content: 'Noted, mountains it is' }], {
    filters: undefined, infer: false, metadata: { source: 'chat' }, userId: 'alice',
  } as any) as any;
  assert.equal(added.results.length, 2);
  assert.deepEqual(added.results.map((r: any) => r.event), ['ADD', 'ADD']);
  const id = added.results[0].id;
  const got = await c.get(id) as any;
  assert.equal(got.memory, 'I love hiking in the Alps');
  assert.equal(got.userId, 'alice');
  assert.deepEqual(got.metadata, { source: 'chat' });

  const page = await c.getAll({ filters: { user_id: 'alice' }, page: 1, pageSize: 1 }) as any;
  assert.equal(page.count, 2);
  assert.equal(page.results.length, 1);
  assert.ok(page.next);

  const embedsBefore = a.fake!.embeddings.length;
  const updated = await c.update(id, { text: 'I love hiking in the Dolomites' }) as any;
  assert.equal(updated.memory, 'I love hiking in the Dolomites');
  assert.equal(a.fake!.embeddings.length, embedsBefore + 1, 'the new text was embedded');
  const hist = await c.history(id) as any[];
  assert.deepEqual(hist.map((h) => h.event), ['ADD', 'UPDATE']);
  assert.equal(hist[1].oldMemory, 'I love hiking in the Alps');
  assert.equal(hist[1].newMemory, 'I love hiking in the Dolomites');

  await c.delete(id);
  await assert.rejects(c.get(id), (e: any) => e.name === 'MemoryNotFoundError');
  assert.deepEqual((await c.history(id) as any[]).map((h) => h.event), ['ADD', 'UPDATE', 'DELETE']);
});

test('an exact duplicate in the same scope is not stored twice; the same text for another user is', async () => {
  const c = a.client();
  const one = await c.add([{ role: 'user', content: 'My cat is called Miso' }], { userId: 'dup', infer: false }) as any;
  const two = await c.add([{ role: 'user', content: 'My cat is called Miso' }], { userId: 'dup', infer: false }) as any;
  const other = await c.add([{ role: 'user', content: 'My cat is called Miso' }], { userId: 'dup2', infer: false }) as any;
  assert.equal(one.results.length, 1);
  assert.equal(two.results.length, 0);
  assert.equal(other.results.length, 1);
});

test('entities, delete by scope, deleteUsers, batch update and delete', async () => {
  const c = a.client();
  const r = await c.add([{ role: 'user', content: 'bob one' }, { role: 'user', content: 'bob two' }, { role: 'user', content: 'bob three' }], { userId: 'bob', agentId: 'helper', infer: false }) as any;
  const ids = r.results.map((x: any) => x.id);
  const users = await c.users() as any;
  const bob = users.results.find((e: any) => e.type === 'user' && e.name === 'bob');
  assert.equal(bob.totalMemories, 3);
  assert.ok(users.results.some((e: any) => e.type === 'agent' && e.name === 'helper'));

  await c.batchUpdate([{ memoryId: ids[0], text: 'bob uno' }, { memoryId: ids[1], text: 'bob dos' }]);
  assert.equal((await c.get(ids[0]) as any).memory, 'bob uno');
  // all or nothing: one unknown id, and nothing of the batch is applied
  await assert.rejects(c.batchUpdate([{ memoryId: ids[2], text: 'bob tres' }, { memoryId: '00000000-0000-0000-0000-000000000000', text: 'x' }]));
  assert.equal((await c.get(ids[2]) as any).memory, 'bob three');

  await c.batchDelete([ids[0]]);
  await assert.rejects(c.get(ids[0]));
  await c.deleteAll({ agentId: 'helper' });
  assert.equal((await c.getAll({ filters: { user_id: 'bob' } }) as any).count, 0);

  await c.add([{ role: 'user', content: 'carol fact' }], { userId: 'carol', infer: false });
  const res = await c.deleteUsers({ userId: 'carol' });
  assert.match(res.message, /deleted/i);
  assert.equal((await c.getAll({ filters: { user_id: 'carol' } }) as any).count, 0);
});

test('2.x client: v1 add with top-level ids, GET list, v2 list, v1 search', async () => {
  const c = a.clientV2();
  const added = await c.add([{ role: 'user', content: 'Dave drinks oolong tea every morning' }], { user_id: 'dave', infer: false } as any) as any;
  assert.equal(added.results[0].event, 'ADD');
  const listed = await c.getAll({ user_id: 'dave' } as any) as any[];
  assert.ok(Array.isArray(listed));
  assert.equal(listed[0].memory, 'Dave drinks oolong tea every morning');
  assert.equal(listed[0].user_id, 'dave');
  const v2 = await c.getAll({ filters: { AND: [{ user_id: 'dave' }] }, api_version: 'v2', page: 1, page_size: 10 } as any) as any;
  assert.equal(v2.count, 1);
  const found = await c.search('oolong tea', { user_id: 'dave' } as any) as any[];
  assert.equal(found[0].memory, 'Dave drinks oolong tea every morning');
  const event = await c.history(added.results[0].id) as any[];
  assert.equal(event[0].event, 'ADD');
});

test('a signed-in user reaches only their own memories', async () => {
  const c = a.client();
  await c.add([{ role: 'user', content: 'erin secret' }], { userId: 'erin', infer: false });
  const frank = a.project.token({ sub: 'frank' });
  const mine = await a.raw('/v3/memories/add/', { key: frank, json: { messages: [{ role: 'user', content: 'frank note' }], infer: false } });
  assert.equal(mine.status, 200);
  assert.equal(mine.body.results[0].event, 'ADD');
  const listed = await a.raw('/v3/memories/', { key: frank, json: { filters: { user_id: '*' } } });
  assert.deepEqual(listed.body.results.map((m: any) => m.memory), ['frank note']);
  const erin = (await c.getAll({ filters: { user_id: 'erin' } }) as any).results[0];
  assert.equal((await a.raw(`/v1/memories/${erin.id}/`, { key: frank })).status, 404);
  assert.equal((await a.raw(`/v1/memories/${erin.id}/`, { key: frank, method: 'DELETE' })).status, 404);
  const foreign = await a.raw('/v3/memories/add/', { key: frank, json: { messages: [{ role: 'user', content: 'x' }], user_id: 'erin', infer: false } });
  assert.equal(foreign.status, 403);
  assert.equal((await c.get(erin.id) as any).memory, 'erin secret');
});

test('project A never sees project B: lists, gets and keys stay in their project', async () => {
  const inA = await a.client().add([{ role: 'user', content: 'only in project A' }], { userId: 'shared', infer: false }) as any;
  await b.client().add([{ role: 'user', content: 'only in project B' }], { userId: 'shared', infer: false });
  const listB = await b.client().getAll({ filters: { user_id: 'shared' } }) as any;
  assert.deepEqual(listB.results.map((m: any) => m.memory), ['only in project B']);
  await assert.rejects(b.client().get(inA.results[0].id), (e: any) => e.name === 'MemoryNotFoundError');
  // B's AI key or service key cannot be pointed at A
  assert.equal((await a.raw(`/v1/memories/${inA.results[0].id}/`, { key: b.aiKey })).status, 401);
  const viaB = await b.raw('/v3/memories/search/', { json: { query: 'only in project', filters: { user_id: 'shared' } } });
  assert.deepEqual(viaB.body.results.map((m: any) => m.memory), ['only in project B']);
});

test('a revoked AI key stops working', async () => {
  const { id, key } = await platform(`/projects/${a.project.ref}/ai/keys`, { method: 'POST', json: { name: 'short' } });
  assert.equal((await a.raw('/v1/ping/', { key })).status, 200);
  await platform(`/projects/${a.project.ref}/ai/keys/${id}`, { method: 'DELETE' });
  await new Promise((r) => setTimeout(r, 5_200)); // the key cache holds an answer for 5 s
  assert.equal((await a.raw('/v1/ping/', { key })).status, 401);
});
