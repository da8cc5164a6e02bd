// infer=true through the `memory-infer` queue with a scripted model: ADD, UPDATE, DELETE and NONE each observed,
// async events, duplicates caught before any model call, invalid JSON and invented ids, idempotent retries,
// the pre-flight check without a model, and a small retrieval-quality run (stated, corrected, asked about).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createQueue } from '@basalt/queue';
import { eventually, testEnv } from '@basalt/testkit';
import { brain } from './brain.js';
import { memProject, type MemProject } from './setup.js';

let p: MemProject;
let noLlm: MemProject;
before(async () => {
  [p, noLlm] = await Promise.all([memProject('mem-infer'), memProject('mem-infer-nollm', { models: 'embed' })]);
});
after(async () => {
  await p?.close();
  await noLlm?.close();
});

const say = (content: string) => [{ role: 'user' as const, content }];

test('ADD, UPDATE, DELETE and NONE, each applied with history, async_mode=false waiting for the worker', async () => {
  p.fake!.script(brain({
    'Hi, I am Alice and I live in Paris with my dog Rex': [
      { text: 'Name is Alice', entities: [{ name: 'Alice', type: 'person' }] },
      { text: 'Lives in Paris', entities: [{ name: 'Paris', type: 'place' }] },
      { text: 'Has a dog named Rex', entities: [{ name: 'Rex', type: 'animal' }] },
    ],
    'I moved to Berlin last month': [{ text: 'Lives in Berlin', entities: [{ name: 'Berlin', type: 'place' }] }],
    'Sadly Rex is gone, I have no dog any more': ['NOT dog named Rex'],
    'As I said, I am Alice': ['Name is Alice'],
  }));
  const c = p.client();
  const first = await c.add(say('Hi, I am Alice and I live in Paris with my dog Rex'), { userId: 'alice', asyncMode: false } as any) as any;
  assert.deepEqual(first.results.map((r: any) => [r.event, r.memory]).sort(), [['ADD', 'Has a dog named Rex'], ['ADD', 'Lives in Paris'], ['ADD', 'Name is Alice']]);
  const paris = first.results.find((r: any) => r.memory === 'Lives in Paris').id;
  const dog = first.results.find((r: any) => r.memory === 'Has a dog named Rex').id;

  const moved = await c.add(say('I moved to Berlin last month'), { userId: 'alice', asyncMode: false } as any) as any;
  assert.deepEqual(moved.results, [{ id: paris, memory: 'Lives in Berlin', event: 'UPDATE' }]);
  const hist = await c.history(paris) as any[];
  assert.deepEqual(hist.map((h) => [h.event, h.oldMemory, h.newMemory]), [['ADD', null, 'Lives in Paris'], ['UPDATE', 'Lives in Paris', 'Lives in Berlin']]);

  const gone = await c.add(say('Sadly Rex is gone, I have no dog any more'), { userId: 'alice', asyncMode: false } as any) as any;
  assert.deepEqual(gone.results.map((r: any) => [r.id, r.event]), [[dog, 'DELETE']]);
  await assert.rejects(c.get(dog));

  const same = await c.add(say('As I said, I am Alice'), { userId: 'alice', asyncMode: false } as any) as any;
  assert.deepEqual(same.results, [], 'NONE changes nothing and is not listed');
  const all = await c.getAll({ filters: { user_id: 'alice' } }) as any;
  assert.deepEqual(all.results.map((m: any) => m.memory).sort(), ['Lives in Berlin', 'Name is Alice']);

  // the decision step saw the similar memories under small integer ids, never their uuids
  const decision = p.fake!.chats.filter((x) => x.system.startsWith('You maintain')).at(-1)!;
  assert.match(decision.user, /"id":"0"/);
  assert.doesNotMatch(decision.user, /[0-9a-f]{8}-[0-9a-f]{4}-/);
  // entities were extracted and linked; a query naming one boosts its memory
  const entities = await p.project.sql<{ name: string; memory_count: number }>("select name, memory_count from memory.entities where user_id = 'alice' order by name");
  assert.deepEqual(entities.map((e) => e.name), ['Alice', 'Berlin', 'Paris']);
  const found = await c.search('Berlin', { filters: { user_id: 'alice' } }) as any;
  assert.equal(found.results[0].memory, 'Lives in Berlin');
});

test('async by default: PENDING with an event id, whose status and results can be read', async () => {
  p.fake!.script(brain({ 'I play the cello': ['Plays the cello'] }));
  const r = await p.client().add(say('I play the cello'), { userId: 'bea' }) as any;
  assert.equal(r.results[0].status, 'PENDING');
  const id = r.results[0].eventId;
  const done = await eventually(async () => {
    const e = await p.raw(`/v1/event/${id}/`);
    return e.body.status === 'SUCCEEDED' ? e.body : null;
  }, 15_000);
  assert.equal(done.results[0].event, 'ADD');
  assert.equal(done.results[0].memory, 'Plays the cello');
  assert.equal((await p.raw('/v1/event/00000000-0000-0000-0000-000000000000/')).status, 404);
});

test('the same conversation again in the same scope is caught before any model call', async () => {
  p.fake!.script(brain({ 'I drink oat milk': ['Drinks oat milk'] }));
  const c = p.client();
  await c.add(say('I drink oat milk'), { userId: 'cy', asyncMode: false } as any);
  const calls = p.fake!.chats.length;
  const again = await c.add(say('I drink oat milk'), { userId: 'cy', asyncMode: false } as any) as any;
  assert.deepEqual(again.results, []);
  assert.equal(p.fake!.chats.length, calls);
});

test('invalid JSON fails the event with nothing applied; invented ids are ignored', async () => {
  const c = p.client();
  p.fake!.script(() => 'Sure! Here are the facts: name=Dan');
  const bad = await p.raw('/v3/memories/add/', { json: { messages: say('I am Dan'), user_id: 'dan', async_mode: false } });
  assert.equal(bad.status, 502);
  assert.match(bad.body.detail, /not \{"facts"/);
  assert.equal((await c.getAll({ filters: { user_id: 'dan' } }) as any).count, 0);

  await c.add(say('jazz bores me'), { userId: 'dan', infer: false });
  p.fake!.script((call) => call.system.startsWith('You maintain')
    ? { memory: [{ id: '99', text: 'hijack', event: 'UPDATE' }, { id: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6', event: 'DELETE' }, { id: '0', event: 'DELETE' }, { id: 'n', text: 'Likes jazz', event: 'ADD' }, { event: 'EXPLODE', text: 'x' }] }
    : { facts: ['Likes jazz'] });
  const r = await c.add(say('I like jazz'), { userId: 'dan', asyncMode: false } as any) as any;
  assert.deepEqual(r.results.map((x: any) => x.event).sort(), ['ADD', 'DELETE']);
  assert.deepEqual((await c.getAll({ filters: { user_id: 'dan' } }) as any).results.map((m: any) => m.memory), ['Likes jazz']);
});

test('a job delivered again applies nothing twice', async () => {
  p.fake!.script(brain({ 'I collect stamps': ['Collects stamps'] }));
  const c = p.client();
  const r = await c.add(say('I collect stamps'), { userId: 'eve', asyncMode: false } as any) as any;
  const [{ id }] = await p.project.sql<{ id: string }>("select id from memory.events where user_id = 'eve'");
  const calls = p.fake!.chats.length;
  const env = testEnv();
  const queue = createQueue<{ ref: string; eventId: string }>('memory-infer', { redisUrl: env.redisUrl, prefix: env.fleetEnv.BASALT_REDIS_PREFIX ?? 'basalt:' });
  const job = await queue.add('infer', { ref: p.project.ref, eventId: id }, { jobId: `${id}-again` });
  await eventually(async () => (await job.getState()) === 'completed', 10_000);
  await queue.close();
  (queue.opts.connection as unknown as { disconnect: () => void }).disconnect(); // BullMQ leaves a connection it was handed open
  assert.equal(p.fake!.chats.length, calls, 'no model call for a finished event');
  const all = await c.getAll({ filters: { user_id: 'eve' } }) as any;
  assert.deepEqual(all.results.map((m: any) => m.id), [r.results[0].id]);
});

test('without a chat model: infer=true is a 400 saying what to set, with no upstream call; infer=false and search work', async () => {
  const res = await noLlm.raw('/v3/memories/add/', { json: { messages: say('I like tea'), user_id: 'u' } });
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'llm_not_configured');
  assert.match(res.body.detail, /settings\.memory\.llm_model/);
  assert.equal(noLlm.fake!.chats.length, 0);
  const c = noLlm.client();
  await c.add(say('I like tea'), { userId: 'u', infer: false });
  assert.equal((await c.search('tea', { filters: { user_id: 'u' } }) as any).results[0].memory, 'I like tea');
});

test('retrieval quality: facts stated, then corrected, then asked about', async () => {
  p.fake!.script(brain({
    'My favourite colour is blue': ['Favourite colour is blue'],
    'I work as a nurse in Lyon': ['Works as a nurse', 'Lives in Lyon'],
    'I am vegetarian': ['Diet is vegetarian'],
    'My sister Zoe studies physics': ['Sister Zoe studies physics'],
    'Correction: my favourite colour is green now': ['Favourite colour is green'],
    'I became a doctor last year': ['Works as a doctor'],
    'I moved from Lyon to Nantes': ['Lives in Nantes'],
    'I eat fish again, not vegetarian any more': ['NOT vegetarian', 'Diet includes fish'],
  }));
  const c = p.client();
  for (const line of ['My favourite colour is blue', 'I work as a nurse in Lyon', 'I am vegetarian', 'My sister Zoe studies physics',
    'Correction: my favourite colour is green now', 'I became a doctor last year', 'I moved from Lyon to Nantes', 'I eat fish again, not vegetarian any more']) {
    await c.add(say(line), { userId: 'quinn', asyncMode: false } as any);
  }
  const questions: [string, string][] = [
    ['what is my favourite colour', 'Favourite colour is green'],
    ['where does quinn work as', 'Works as a doctor'],
    ['which city: lives in', 'Lives in Nantes'],
    ['diet fish', 'Diet includes fish'],
    ['what does zoe study', 'Sister Zoe studies physics'],
  ];
  let hits = 0;
  for (const [q, expected] of questions) {
    const r = await c.search(q, { filters: { user_id: 'quinn' }, topK: 1 }) as any;
    if (r.results[0]?.memory === expected) hits++;
  }
  assert.equal(hits, questions.length, 'top-1 answers every question');
  const texts = (await c.getAll({ filters: { user_id: 'quinn' } }) as any).results.map((m: any) => m.memory);
  for (const stale of ['Favourite colour is blue', 'Works as a nurse', 'Lives in Lyon', 'Diet is vegetarian']) assert.ok(!texts.includes(stale), stale);
});
