// The optional rerank step of a search (mem0's `rerank: true`): when the project names a rerank model
// (settings.memory.rerank_model, a chat model resolved through its AI routes), each retrieved memory is scored
// for relevance to the query by that model, one call per memory, a few at a time, and the results are reordered
// by that score. A call that fails or answers no score leaves that memory at a neutral 0.5, as mem0's LLM
// reranker does; without a rerank model the retrieval order stands.
import type { ModelClient } from '../clients/models.js';
import type { Ctx } from './context.js';

const PARALLEL = 8;
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
  /** `items` reordered by the rerank model's scores, each with its rerank_score; called only with a rerank model set */
  return async function rerank<T extends { memory: string }>(ctx: Ctx, model: string, query: string, items: T[]): Promise<(T & { rerank_score: number })[]> {
    const scores = Array<number>(items.length).fill(NEUTRAL);
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        try {
          const answer = await models.chat(ctx.caller.project, model, [
            { role: 'system', content: INSTRUCTIONS },
            { role: 'user', content: `Query: ${query.slice(0, MAX_CHARS)}\n\nMemory: ${items[i].memory.slice(0, MAX_CHARS)}` },
          ]);
          scores[i] = scoreOf(answer);
        } catch {
          scores[i] = NEUTRAL;
        }
      }
    }));
    // a stable sort: equal scores keep the retrieval order
    return items.map((it, i) => ({ it, i, s: scores[i] }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .map(({ it, s }) => ({ ...it, rerank_score: s }));
  };
}

export type Reranker = ReturnType<typeof reranker>;
