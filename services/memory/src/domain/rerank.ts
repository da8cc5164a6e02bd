// The optional rerank step of a search (mem0's `rerank: true`): when the project names a rerank model
// (settings.memory.rerank_model, a chat model resolved through its AI routes), each of the first RERANKED retrieved
// memories is scored for relevance to the query by that model, one call per memory, a few at a time, and those are
// reordered by that score; the rest follow in retrieval order with no rerank_score (they were never scored). A call
// that fails or answers no score leaves that memory at a neutral 0.5, as mem0's LLM reranker does; a refusal for
// quota, a call that got no answer (timed out, unreachable), or the client going away ends the step: the memories not
// yet scored stay neutral. A model that hangs thus costs a search one call's timeout, not one per wave of calls.
import { refusedForQuota, unanswered, type ModelClient } from '../clients/models.js';
import type { Ctx } from './context.js';

/**
 * The most model calls one search makes. Without a bound, top_k 1000 was 1000 chat calls from one request,
 * repeatable at will against the project's AI spend. mem0's own LLM reranker scores every result it is given; its
 * performance guide sizes an LLM reranker's candidates at 20, which also covers our default top_k of 10 whole.
 */
export const RERANKED = 20;
/** calls under way at once: also the most that can already be sent when a quota refusal arrives */
export const PARALLEL = 8;
const MAX_CHARS = 4000;
const NEUTRAL = 0.5;

const INSTRUCTIONS = `Rate how relevant a stored memory is to a search query, from 0.0 (unrelated) to 1.0 (answers it directly).
Answer with a JSON object {"score": <number between 0 and 1>} and nothing else.`;

/** the score in a model's answer: {"score": x}, or failing that the first number in the text */
export function scoreOf(answer: string): number {
  let n: unknown;
  try {
    const parsed = JSON.parse(answer) as unknown;
    n = typeof parsed === 'object' && parsed !== null ? (parsed as { score?: unknown }).score : parsed;
  } catch {
    n = /-?\d+(?:\.\d+)?/.exec(answer)?.[0];
  }
  const x = typeof n === 'number' ? n : typeof n === 'string' ? Number(n) : NaN;
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : NEUTRAL;
}

export function reranker(models: ModelClient) {
  /** the model's score for each of `items` (at most RERANKED of them), NEUTRAL where it gave none */
  async function scoresOf(ctx: Ctx, model: string, query: string, items: { memory: string }[]): Promise<number[]> {
    const scores = Array<number>(items.length).fill(NEUTRAL);
    let next = 0;
    let stopped = false;
    const more = () => !stopped && !ctx.signal?.aborted;
    await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
      for (let i = next++; i < items.length && more(); i = next++) {
        try {
          const answer = await models.chat(ctx.caller.project, model, [
            { role: 'system', content: INSTRUCTIONS },
            { role: 'user', content: `Query: ${query.slice(0, MAX_CHARS)}\n\nMemory: ${items[i].memory.slice(0, MAX_CHARS)}` },
          ], ctx.signal);
          scores[i] = scoreOf(answer);
        } catch (e) {
          // one refusal for quota says the next call would be refused too: calling on only spends the caller's limits;
          // a call that got no answer says the next would wait its whole timeout too (60 s by default)
          if (refusedForQuota(e) || unanswered(e)) stopped = true;
        }
      }
    }));
    return scores;
  }

  /** `items` with the first RERANKED reordered by the rerank model's scores, each of those with its rerank_score */
  return async function rerank<T extends { memory: string }>(ctx: Ctx, model: string, query: string, items: T[]): Promise<(T & { rerank_score?: number })[]> {
    const head = items.slice(0, RERANKED);
    const scores = await scoresOf(ctx, model, query, head);
    // a stable sort: equal scores keep the retrieval order
    const ranked = head.map((it, i) => ({ it, i, s: scores[i] }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .map(({ it, s }) => ({ ...it, rerank_score: s }));
    return [...ranked, ...items.slice(RERANKED)];
  };
}

export type Reranker = ReturnType<typeof reranker>;
