// Embeds texts with the project's embedding model: cached by (model, md5 of the text) in the project's
// database, misses embedded in one batched call through the AI gateway.
// Concurrent requests of one project and model share those trips (see coalesce.ts): the texts of the requests
// that arrive while lookups are under way go together, one cache read and one embedding call with several inputs
// for all of them. A batch the model refuses for what it carried (say one text too long) is retried request by
// request, so each request meets only its own error.
import { createHash } from 'node:crypto';
import { cachedEmbeddingsOneTrip, storeEmbeddings } from '../db/cache.js';
import { refusedInput, type ModelClient } from '../clients/models.js';
import { coalescer, type CoalesceLimits } from './coalesce.js';
import { asService, serviceSettings, type Ctx } from './context.js';
import { normalize, signCode, toBytes, fromBytes } from '@basalt/vector-index';

export const md5 = (text: string) => createHash('md5').update(text).digest('hex');

export interface Embedded {
  vector: Float32Array;
  bytes: Buffer;
  code: string;
}

export interface Fresh {
  hash: string;
  embedding: Buffer;
}

/** lookups in flight per project and model, and what one embedding call may carry (a larger request still goes whole) */
export const EMBED_BATCH: CoalesceLimits = { parallel: 2, maxItems: 128, maxWeight: 200_000 };

interface Waiter {
  ctx: Ctx;
  model: string;
  texts: string[];
  hashes: string[];
  chars: number;
  resolve: (r: { embedded: Embedded[]; fresh: Fresh[] }) => void;
  reject: (e: unknown) => void;
}

export function embedder(models: ModelClient, limits: CoalesceLimits = EMBED_BATCH) {
  /** the vectors of `texts` (by hash) from the cache or the model: one cache read, at most one model call */
  async function fetchVectors(ctx: Ctx, model: string, texts: Map<string, string>): Promise<{ found: Map<string, Buffer>; fresh: Set<string> }> {
    const found = await cachedEmbeddingsOneTrip(ctx.pool, serviceSettings(ctx), model, [...texts.keys()]);
    const missing = [...texts.keys()].filter((h) => !found.has(h));
    if (missing.length) {
      const vectors = await models.embed(ctx.caller.project, model, missing.map((h) => texts.get(h)!), ctx.settings.dimensions);
      missing.forEach((h, i) => found.set(h, toBytes(normalize(vectors[i]))));
    }
    return { found, fresh: new Set(missing) };
  }

  function answer(w: Waiter, found: Map<string, Buffer>, fresh: Set<string>): void {
    const embedded = w.hashes.map((h) => {
      const vector = fromBytes(found.get(h)!);
      return { vector, bytes: toBytes(vector), code: signCode(vector) };
    });
    const mine = [...new Set(w.hashes.filter((h) => fresh.has(h)))];
    w.resolve({ embedded, fresh: mine.map((hash) => ({ hash, embedding: found.get(hash)! })) });
  }

  async function runBatch(batch: Waiter[]): Promise<void> {
    const model = batch[0].model;
    const texts = new Map<string, string>();
    for (const w of batch) w.hashes.forEach((h, i) => texts.set(h, w.texts[i]));
    try {
      const { found, fresh } = await fetchVectors(batch[0].ctx, model, texts);
      for (const w of batch) answer(w, found, fresh);
    } catch (e) {
      if (batch.length === 1 || !refusedInput(e)) {
        for (const w of batch) w.reject(e);
        return;
      }
      await Promise.all(batch.map(async (w) => {
        try {
          const { found, fresh } = await fetchVectors(w.ctx, model, new Map(w.hashes.map((h, i) => [h, w.texts[i]])));
          answer(w, found, fresh);
        } catch (err) {
          w.reject(err);
        }
      }));
    }
  }

  const lanes = coalescer<Waiter>(limits, (w) => ({ items: w.hashes.length, weight: w.chars }), (_key, batch) => runBatch(batch));

  /** embeddings from the cache or the model; `fresh` are the ones the cache does not hold yet */
  function lookup(ctx: Ctx, model: string, texts: string[]): Promise<{ embedded: Embedded[]; fresh: Fresh[] }> {
    return new Promise((resolve, reject) => lanes.push(`${ctx.caller.project.ref}\n${model}\n${ctx.settings.dimensions ?? ''}`, {
      ctx, model, texts, hashes: texts.map(md5), chars: texts.reduce((n, t) => n + t.length, 0), resolve, reject,
    }));
  }

  return {
    /** null when the project has no embedding model (keyword search only); new embeddings are cached */
    async embed(ctx: Ctx, texts: string[]): Promise<Embedded[] | null> {
      const model = ctx.settings.embeddingModel;
      if (!model) return null;
      if (texts.length === 0) return [];
      const { embedded, fresh } = await lookup(ctx, model, texts);
      if (fresh.length) await asService(ctx, (tx) => storeEmbeddings(tx, model, fresh));
      return embedded;
    },

    /** as embed, leaving the new embeddings to the caller to cache (in its own write) */
    async embedDeferred(ctx: Ctx, texts: string[]): Promise<{ embedded: Embedded[]; fresh: Fresh[]; model: string } | null> {
      const model = ctx.settings.embeddingModel;
      if (!model) return null;
      if (texts.length === 0) return { embedded: [], fresh: [], model };
      return { ...(await lookup(ctx, model, texts)), model };
    },

    async store(ctx: Ctx, model: string, fresh: Fresh[]): Promise<void> {
      if (fresh.length) await asService(ctx, (tx) => storeEmbeddings(tx, model, fresh));
    },
  };
}

export type Embedder = ReturnType<typeof embedder>;
