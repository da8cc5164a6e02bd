// The rerank step against a stand-in model client: the bound on calls, the unscored tail, and the three ways the step
// ends early (a refusal for quota, a call that got no answer, the client going away), each leaving what is not yet
// scored neutral.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelClient } from '../clients/models.js';
import type { Ctx } from './context.js';
import { PARALLEL, RERANKED, reranker } from './rerank.js';

const items = Array.from({ length: 50 }, (_, i) => ({ id: i, memory: `memory ${i}` }));
const quotaRefusal = () => Object.assign(new Error('The model call failed: quota'), { transient: true, quota: true });

/** a model that answers `answer(n)` to its n-th call (1-based), and the count of its calls */
function model(answer: (n: number) => string) {
  const seen = { calls: 0 };
  const client = { chat: async () => answer(++seen.calls) } as unknown as ModelClient;
  return { seen, client };
}

const ctxWith = (signal?: AbortSignal) => ({ caller: { project: { ref: 'p' } }, signal }) as unknown as Ctx;

test('only the first RERANKED items are scored and reordered; the rest follow in order, without a rerank_score', async () => {
  const { seen, client } = model((n) => JSON.stringify({ score: n / 100 }));
  const out = await reranker(client)(ctxWith(), 'm', 'q', items);
  assert.equal(seen.calls, RERANKED);
  assert.equal(out.length, items.length);
  assert.deepEqual(out.slice(0, RERANKED).map((m) => m.id).sort((a, b) => a - b), items.slice(0, RERANKED).map((m) => m.id));
  assert.ok(out.slice(0, RERANKED).every((m, i, all) => typeof m.rerank_score === 'number' && (i === 0 || all[i - 1].rerank_score! >= m.rerank_score)));
  assert.deepEqual(out.slice(RERANKED), items.slice(RERANKED));
});

// the workers start their first calls together, so a refusal comes back with PARALLEL calls under way; an abort
// is seen by every worker that has not started yet
const early: [string, number, (abort: AbortController) => (n: number) => string][] = [
  ['a refusal for quota', PARALLEL, () => () => {
    throw quotaRefusal();
  }],
  ['a call that got no answer (timed out, unreachable)', PARALLEL, () => () => {
    throw Object.assign(new Error('The model call failed: timed out'), { transient: true, quota: false, unanswered: true });
  }],
  ['the client going away', 1, (abort) => (n) => {
    if (n === 1) abort.abort();
    return '{"score": 1}';
  }],
];

for (const [why, calls, make] of early) {
  test(`${why} ends the step: no further calls, the unscored items neutral in retrieval order`, async () => {
    const abort = new AbortController();
    const { seen, client } = model(make(abort));
    const out = await reranker(client)(ctxWith(abort.signal), 'm', 'q', items);
    assert.equal(seen.calls, calls);
    assert.equal(out.length, items.length);
    const neutral = out.filter((m) => m.rerank_score === 0.5).map((m) => m.id);
    assert.deepEqual(neutral, items.slice(calls === 1 ? 1 : 0, RERANKED).map((m) => m.id));
    assert.deepEqual(out.slice(RERANKED), items.slice(RERANKED));
  });
}

test('other failures (an unusable answer, a 5xx) do not end the step: each is neutral and the rest are still scored', async () => {
  const { seen, client } = model((n) => {
    if (n % 4 === 1) throw Object.assign(new Error('bad answer'), { transient: false, quota: false, unanswered: false });
    if (n % 4 === 3) throw Object.assign(new Error('upstream 503'), { transient: true, quota: false, unanswered: false });
    return '{"score": 0.9}';
  });
  const out = await reranker(client)(ctxWith(), 'm', 'q', items);
  assert.equal(seen.calls, RERANKED);
  assert.deepEqual(out.slice(0, RERANKED).map((m) => m.rerank_score), [...Array(RERANKED / 2).fill(0.9), ...Array(RERANKED / 2).fill(0.5)]);
});
