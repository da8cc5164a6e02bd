// Hybrid retrieval: cosine similarity over Hamming-prefiltered candidates, full-text rank (ts_rank_cd with the
// project's text search configuration) and an entity boost attenuated by how many memories an entity spans.
//   score = 0.7·cosine + 0.3·keyword (keyword alone when the project has no embedding model) + entity boost
import { SqlParams } from '@basalt/db';
import { candidateRows, entityMatches, keywordCandidates, keywordQuery } from '../db/search.js';
import { memErrors } from '../errors.js';
import { asUser, type Ctx } from './context.js';
import type { Embedder } from './embedder.js';
import type { Reranker } from './rerank.js';
import type { SearchBody } from './input.js';
import { listConditions } from './memories.js';
import { presentMemory } from './present.js';
import type { VectorLeg } from './vector-leg.js';
import { dot, fromBytes } from '@basalt/vector-index';

const SEMANTIC = 0.7;
const KEYWORD = 0.3;
const ENTITY = 0.1;
const MAX_BOOST = 0.2;

export function searchDomain(embedder: Embedder, vectors: VectorLeg, rerank: Reranker) {
  return {
    async search(ctx: Ctx, body: SearchBody) {
      const query = body.query.trim();
      if (!query) throw memErrors.validation('query must not be empty');
      const topK = body.top_k ?? body.limit ?? 10;
      const pool = Math.max(topK * 4, 40);
      // compile once to fail fast on a bad filter before any model call
      listConditions(ctx, new SqlParams(), body);
      const embedded = await embedder.embed(ctx, [query]);
      const q = embedded?.[0];
      const model = ctx.settings.embeddingModel;
      const codes = q && model ? await vectors.codes(ctx, model, q.code) : null;
      const results = await asUser(ctx, async (tx) => {
        const where = () => {
          const p = new SqlParams();
          return { p, where: listConditions(ctx, p, body) };
        };
        // the keyword leg is sent first, so Postgres ranks it while this process ranks the codes (same connection,
        // so the statements still run one after the other; only the waiting overlaps)
        const text = body.keyword_search === false && q ? null : await keywordQuery(tx, ctx.settings.textSearchConfig, query);
        const keyword = text === null ? Promise.resolve([]) : keywordCandidates(tx, where, text, pool);
        keyword.catch(() => {}); // awaited below
        let vec: string[] = [];
        try {
          const ranked = q && model ? vectors.rank(codes, q.code) : null;
          if (q && model) vec = await vectors.candidates(tx, where, ranked, model, q.code, pool);
        } catch (e) {
          await keyword; // a failed keyword statement aborted the transaction: its error is the one to report
          throw e;
        }
        const kw = await keyword;
        const ids = [...new Set([...vec, ...kw.map((r) => r.id)])];
        const rows = await candidateRows(tx, ids);
        const links = await entityMatches(tx, ids, query);
        const maxRank = Math.max(0, ...kw.map((r) => r.rank));
        const rank = new Map(kw.map((r) => [r.id, maxRank > 0 ? r.rank / maxRank : 0]));
        const boost = new Map<string, number>();
        for (const l of links) boost.set(l.memory_id, (boost.get(l.memory_id) ?? 0) + ENTITY / (1 + Math.log(Math.max(1, l.memory_count))));
        const scored = rows.map((r) => {
          const cos = q && r.embedding && r.embedding_model === ctx.settings.embeddingModel ? Math.max(0, dot(q.vector, fromBytes(r.embedding))) : 0;
          const text = rank.get(r.id) ?? 0;
          const base = q ? SEMANTIC * cos + KEYWORD * text : text;
          const score = Math.min(1, base + Math.min(MAX_BOOST, boost.get(r.id) ?? 0));
          const { embedding: _e, embedding_model: _m, ...row } = r;
          return { row, score };
        });
        const threshold = body.threshold ?? 0;
        return scored.filter((s) => s.score > 0 && s.score >= threshold)
          .sort((a, b) => b.score - a.score || a.row.id.localeCompare(b.row.id))
          .slice(0, topK)
          .map((s) => presentMemory(s.row, { score: Number(s.score.toFixed(6)) }));
      });
      // the model calls come after the transaction: no connection is held while a model thinks
      const reranking = ctx.settings.rerankModel;
      return body.rerank && reranking ? rerank(ctx, reranking, query, results) : results;
    },
  };
}

export type SearchDomain = ReturnType<typeof searchDomain>;
