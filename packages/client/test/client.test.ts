// @basalt/client against the fleet: supabase-js's own modules unchanged, and ai (the OpenAI client through the
// project's AI gateway, with the key or a signed-in user's token), memory, documents and assets, each through
// the module's real service.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createProject, platform } from '@basalt/testkit';
import { BasaltError, createClient } from '../src/index.js';

// A small OpenAI-format upstream: one chat completion, the model echoed back.
const seen: { authorization?: string; model?: string }[] = [];
const upstream = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const j = JSON.parse(body || '{}');
    seen.push({ authorization: req.headers.authorization, model: j.model });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: j.model,
      choices: [{ index: 0, message: { role: 'assistant', content: `hello from ${j.model}` }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
    }));
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.77', () => r()));
after(() => upstream.close());

const p = await createProject('client');
await p.sql(`create table todos (id serial primary key, owner uuid not null default auth.uid(), title text not null);
  alter table todos enable row level security;
  create policy mine on todos for all to authenticated using (owner = auth.uid()) with check (owner = auth.uid());`);
const options = { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: WebSocket as never } };
const asService = createClient(p.url, p.serviceKey, options);

test('supabase-js modules are supabase-js\'s own: auth and from under RLS', async () => {
  const app = createClient<any>(p.url, p.anonKey, options);
  const { error } = await app.auth.signUp({ email: `client-${Date.now()}@example.com`, password: 'client-pass-1' });
  assert.equal(error, null);
  assert.equal((await app.from('todos').insert({ title: 'write the client' })).error, null);
  assert.deepEqual((await app.from('todos').select('title')).data, [{ title: 'write the client' }]);
  assert.equal(typeof app.channel, 'function');
  assert.equal(typeof app.functions.invoke, 'function');
});

test('ai: the OpenAI client through the project, with the service key and then a user\'s own token', async () => {
  const port = (upstream.address() as AddressInfo).port;
  await platform(`/projects/${p.ref}/ai/providers`, { method: 'POST', json: { name: 'local', type: 'openai', base_url: `http://127.0.0.77:${port}/v1`, api_key: 'sk-upstream' } });
  await platform(`/projects/${p.ref}/ai/routes`, { method: 'PUT', json: { routes: [{ model: 'small', provider: 'local', upstream_model: 'tiny-1' }] } });
  const answer = await asService.ai.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(answer.choices[0].message.content, 'hello from tiny-1');
  assert.equal(seen.at(-1)?.authorization, 'Bearer sk-upstream', 'the provider key stays on the server');

  await platform(`/projects/${p.ref}/ai/settings`, { method: 'PUT', json: { user_access: { enabled: true, tokens_per_day: 1000 } } });
  const app = createClient(p.url, p.anonKey, options);
  await assert.rejects(app.ai.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'hi' }] }), (e: { status?: number }) => e.status === 403, 'the anon key alone may not');
  await app.auth.signUp({ email: `ai-${Date.now()}@example.com`, password: 'client-pass-1' });
  const mine = await app.ai.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(mine.choices[0].message.content, 'hello from tiny-1', 'a signed-in user calls with their own token');
});

test('assets: publish text and bytes, read them at their public URLs, list and remove', async () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);
  const files = await asService.assets.upload([{ path: 'index.html', content: '<h1>hi</h1>' }, { path: 'img/dot.png', content: png }]);
  assert.deepEqual(files.map((f) => f.path).sort(), ['img/dot.png', 'index.html']);
  const page = await fetch(files.find((f) => f.path === 'index.html')!.url);
  assert.equal(await page.text(), '<h1>hi</h1>');
  const img = await fetch(files.find((f) => f.path === 'img/dot.png')!.url);
  assert.deepEqual(new Uint8Array(await img.arrayBuffer()), png);
  assert.equal((await asService.assets.list()).length, 2);
  await asService.assets.remove('img/dot.png');
  assert.deepEqual((await asService.assets.list()).map((f) => f.path), ['index.html']);
  await assert.rejects(createClient(p.url, p.anonKey, options).assets.list(), (e: BasaltError) => e instanceof BasaltError && e.status === 401 || e.status === 403);
});

test('memory: add verbatim, search, read, update, history and delete, scoped to a user', async () => {
  const added = await asService.memory.add([{ role: 'user', content: 'I live in Lisbon and I love green tea' }], { user_id: 'alice', infer: false });
  const id = added.results[0].id!;
  assert.ok(id);
  const found = await asService.memory.search('tea', { filters: { user_id: 'alice' } });
  assert.ok(found.some((m) => m.id === id));
  assert.deepEqual(await asService.memory.search('tea', { filters: { user_id: 'bob' } }), []);
  assert.match((await asService.memory.get(id)).memory, /green tea/);
  await asService.memory.update(id, { text: 'I live in Porto and I love green tea' });
  assert.match((await asService.memory.get(id)).memory, /Porto/);
  assert.ok((await asService.memory.history(id)).some((h) => h.event === 'UPDATE'));
  await asService.memory.delete(id);
  await assert.rejects(asService.memory.get(id), (e: BasaltError) => e.status === 404);
});

test('documents: insert, query with operators, update, aggregate and delete', async () => {
  await platform(`/projects/${p.ref}/documents/rules/notes`, { method: 'PUT', json: { read: true, insert: true, update: true, delete: true } });
  const notes = asService.documents.collection<{ title: string; stars: number; tags?: string[] }>('notes');
  await notes.insertMany([{ title: 'a', stars: 1, tags: ['x'] }, { title: 'b', stars: 5, tags: ['x', 'y'] }, { title: 'c', stars: 3 }]);
  assert.deepEqual((await notes.find({ stars: { $gte: 3 } }, { sort: { stars: -1 }, projection: { _id: 0, title: 1 } })), [{ title: 'b' }, { title: 'c' }]);
  assert.equal(await notes.countDocuments({ tags: 'x' }), 2);
  assert.equal((await notes.updateMany({ stars: { $lt: 3 } }, { $inc: { stars: 10 } })).modifiedCount, 1);
  assert.deepEqual(await notes.aggregate([{ $group: { _id: null, total: { $sum: '$stars' } } }, { $project: { _id: 0, total: 1 } }]), [{ total: 19 }]);
  assert.equal((await notes.deleteMany({})).deletedCount, 3);
});
