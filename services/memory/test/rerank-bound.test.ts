// Rerank's bound on model calls, through the gateway to the fake upstream: top_k 200 with rerank on scores only the
// first RERANKED results (one chat call each) and the rest follow in retrieval order without a rerank_score; an
// upstream's 429 (insufficient_quota) ends the step after the calls already under way.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PARALLEL, RERANKED } from '../src/domain/rerank.js';
import { ChatRefusal } from './fake-model.js';
import { memProject, type MemProject } from './setup.js';

let p: MemProject;
before(async () => {
  p = await memProject('mem-rerank-bound', { settings: { rerank_model: 'mem-chat' } });
  const messages = Array.from({ length: 220 }, (_, i) => ({ role: 'user', content: `garden note number ${i}` }));
  const added = await p.raw('/v3/memories/add/', { json: { messages, user_id: 'rb', infer: false } });
  assert.equal(added.status, 200, JSON.stringify(added.body));
});
after(async () => p?.close());

const search = async (rerank: boolean) => {
  const r = await p.raw('/v3/memories/search/', { json: { query: 'garden note', filters: { user_id: 'rb' }, top_k: 200, rerank } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results as { id: string; rerank_score?: number }[];
};
const ids = (list: { id: string }[]) => list.map((m) => m.id);

test('top_k 200 with rerank: at most RERANKED model calls, 200 results, the unscored rest in retrieval order', async () => {
  p.fake!.script((call) => ({ score: (Number(/number (\d+)/.exec(call.user)?.[1]) % 7) / 10 }));
  const plain = await search(false);
  assert.equal(plain.length, 200);
  const calls = p.fake!.chats.length;
  const ranked = await search(true);
  assert.equal(ranked.length, 200);
  assert.equal(p.fake!.chats.length - calls, RERANKED);
  const head = ranked.slice(0, RERANKED);
  assert.deepEqual(ids(head).sort(), ids(plain.slice(0, RERANKED)).sort(), 'the reranked ones are the best retrieved');
  assert.ok(head.every((m, i) => typeof m.rerank_score === 'number' && (i === 0 || head[i - 1].rerank_score! >= m.rerank_score)));
  assert.deepEqual(ids(ranked.slice(RERANKED)), ids(plain.slice(RERANKED)));
  assert.ok(ranked.slice(RERANKED).every((m) => !('rerank_score' in m)), 'never scored, so no rerank_score');
});

test('a 429 from the model ends the reranking: no further calls, the results neutral in retrieval order', async () => {
  p.fake!.script(() => new ChatRefusal(429, 'insufficient_quota', 'You exceeded your current quota'));
  const plain = await search(false);
  const calls = p.fake!.chats.length;
  const ranked = await search(true);
  assert.equal(ranked.length, 200);
  // the gateway may retry an upstream's 429 itself: the distinct memories asked about are the service's own calls,
  // and only those already under way when the first refusal came back were sent
  const asked = new Set(p.fake!.chats.slice(calls).map((c) => c.user));
  assert.ok(asked.size >= 1 && asked.size <= PARALLEL && asked.size < RERANKED, `${asked.size} memories asked about`);
  assert.deepEqual(ids(ranked), ids(plain));
  assert.ok(ranked.slice(0, RERANKED).every((m) => m.rerank_score === 0.5));
});
