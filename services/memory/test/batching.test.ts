// Concurrent infer=false adds share their trips (one cache read and one embedding call, one insert statement) and
// still answer each request as if it had run alone: its own results in message order, its own duplicates skipped,
// its own error when the model refuses its text or Postgres its values. A text added by racing requests is stored
// once per scope.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { memProject, type MemProject } from './setup.js';

let p: MemProject;
before(async () => {
  p = await memProject('mem-batching', { models: 'embed' });
});
after(async () => p?.close());

const add = (json: unknown) => p.raw('/v3/memories/add/', { json });

test('concurrent adds are each answered with their own memories, stored in their scopes, with history', async () => {
  const callsBefore = p.fake!.embeddingCalls.length;
  const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => add({
    messages: [{ role: 'user', content: `batch note ${i} first` }, { role: 'user', content: `batch note ${i} second` }, { role: 'user', content: 'batch shared text' }],
    user_id: `batch-${i % 3}`, metadata: { i }, infer: false,
  })));
  assert.ok(answers.every((a) => a.status === 200));
  answers.forEach((a, i) => {
    const own = a.body.results.filter((r: any) => r.memory !== 'batch shared text').map((r: any) => r.memory);
    assert.deepEqual(own, [`batch note ${i} first`, `batch note ${i} second`], 'each request gets its own rows, in message order');
    assert.ok(a.body.results.every((r: any) => r.event === 'ADD'));
  });
  // the shared text: once in each of the three scopes, by whichever request came first, though requests race in
  // separate transactions as well as within one statement
  const shared = answers.flatMap((a) => a.body.results.filter((r: any) => r.memory === 'batch shared text'));
  assert.equal(shared.length, 3);
  for (let u = 0; u < 3; u++) {
    const listed = await p.raw(`/v1/memories/?user_id=batch-${u}&page=1&page_size=100`);
    const texts = listed.body.results.map((m: any) => m.memory);
    assert.equal(texts.filter((t: string) => t !== 'batch shared text').length, 8 * 2);
    assert.equal(texts.filter((t: string) => t === 'batch shared text').length, 1);
    assert.ok(listed.body.results.every((m: any) => m.user_id === `batch-${u}`));
  }
  const one = answers[5].body.results[0];
  const got = await p.raw(`/v1/memories/${one.id}/`);
  assert.deepEqual(got.body.metadata, { i: 5 });
  assert.deepEqual((await p.raw(`/v1/memories/${one.id}/history/`)).body.map((h: any) => h.event), ['ADD']);
  // fewer embedding calls than requests: the texts of waiting requests went together
  const calls = p.fake!.embeddingCalls.slice(callsBefore);
  const embedded = p.fake!.embeddings.slice(-calls.reduce((n, k) => n + k, 0));
  // each own text once; the shared one once per call at most (batches in flight together do not see each other)
  assert.equal(embedded.filter((t) => t !== 'batch shared text').length, 24 * 2);
  assert.ok(embedded.includes('batch shared text'));
  assert.ok(calls.length < 24, `${calls.length} embedding calls for 24 requests`);
  // all cached: the same texts again embed nothing and store nothing twice
  const again = await Promise.all(Array.from({ length: 6 }, (_, i) => add({ messages: [{ role: 'user', content: `batch note ${i} first` }], user_id: `batch-${i % 3}`, infer: false })));
  assert.ok(again.every((a) => a.status === 200 && a.body.results.length === 0));
  assert.equal(p.fake!.embeddingCalls.length, callsBefore + calls.length);
});

test('a request the model refuses, or Postgres, fails alone; the others of its batch are stored', async () => {
  const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => add({
    messages: [{ role: 'user', content: i === 3 ? 'please REFUSE this one' : `mixed batch ${i}` }], user_id: 'mixed',
    // a date the schema lets through and Postgres does not read
    ...(i === 7 ? { expiration_date: '2030-13-45' } : {}),
    infer: false,
  })));
  answers.forEach((a, i) => {
    if (i === 3) assert.equal(a.status, 502, JSON.stringify(a.body));
    else if (i === 7) assert.equal(a.status, 400, JSON.stringify(a.body));
    else assert.deepEqual([a.status, a.body.results.map((r: any) => r.memory)], [200, [`mixed batch ${i}`]]);
  });
  const listed = await p.raw('/v1/memories/?user_id=mixed&page=1&page_size=100');
  assert.equal(listed.body.count, 14);
});

test('the same text added by many requests at once is stored once in its scope', async () => {
  const answers = await Promise.all(Array.from({ length: 12 }, () => add({ messages: [{ role: 'user', content: 'raced text' }], user_id: 'racer', infer: false })));
  assert.ok(answers.every((a) => a.status === 200));
  assert.equal(answers.flatMap((a) => a.body.results).length, 1, 'one request stored it; the others found it stored');
  const listed = await p.raw('/v1/memories/?user_id=racer&page=1&page_size=100');
  assert.deepEqual(listed.body.results.map((m: any) => m.memory), ['raced text']);
});
