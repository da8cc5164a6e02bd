// Client input that once reached past validation: a timestamp beyond what a date can hold was a 500 (and, with
// infer=true, a job that paid for its model calls on every attempt before failing where it stored the result).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { memProject, type MemProject } from './setup.js';

let m: MemProject;
before(async () => {
  m = await memProject('mem-hostile');
});
after(() => m?.close());

test('a timestamp no date can hold is a 400 validation_failed, on add (either mode) and on update', async () => {
  for (const infer of [false, true]) {
    const r = await m.raw('/v1/memories/', { json: { messages: 'I like tea', user_id: 'u1', infer, timestamp: 1e15 } });
    assert.equal(r.status, 400, `infer=${infer}`);
    assert.equal(r.body.code, 'validation_failed');
    assert.equal(m.fake!.chats.length, 0, 'no model was asked');
  }
  const added = await m.raw('/v1/memories/', { json: { messages: 'I like coffee', user_id: 'u1', infer: false } });
  const id = added.body.results[0].id;
  const r = await m.raw(`/v1/memories/${id}/`, { method: 'PUT', json: { timestamp: -1e15 } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'validation_failed');
  // the same memory still takes a timestamp a date can hold
  assert.equal((await m.raw(`/v1/memories/${id}/`, { method: 'PUT', json: { timestamp: 1_700_000_000 } })).status, 200);
});
