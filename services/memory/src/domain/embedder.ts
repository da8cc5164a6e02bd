// Embeds texts with the project's embedding model: cached by (model, md5 of the text) in the project's
// database, misses embedded in one batched call through the AI gateway.
import { createHash } from 'node:crypto';
import { cachedEmbeddingsOneTrip, storeEmbeddings } from '../db/cache.js';
import type { ModelClient } from '../clients/models.js';
import { asService, type Ctx } from './context.js';
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

export function embedder(models: ModelClient) {
  /** embeddings from the cache or the model; `fresh` are the ones the cache does not hold yet */
  async function lookup(ctx: Ctx, model: string, texts: string[]): Promise<{ embedded: Embedded[]; fresh: Fresh[] }> {
    const hashes = texts.map(md5);
    const claims = { role: 'service_role', ref: ctx.caller.project.ref };
    const cached = await cachedEmbeddingsOneTrip(ctx.pool, { role: 'service_role', claims }, model, [...new Set(hashes)]);
    const missing = [...new Set(hashes.filter((h) => !cached.has(h)))];
    let fresh: Fresh[] = [];
    if (missing.length) {
      const textOf = new Map(hashes.map((h, i) => [h, texts[i]]));
      const vectors = await models.embed(ctx.caller.project, model, missing.map((h) => textOf.get(h)!), ctx.settings.dimensions);
      fresh = missing.map((hash, i) => ({ hash, embedding: toBytes(normalize(vectors[i])) }));
      for (const f of fresh) cached.set(f.hash, f.embedding);
    }
    const embedded = hashes.map((h) => {
      const vector = fromBytes(cached.get(h)!);
      return { vector, bytes: toBytes(vector), code: signCode(vector) };
    });
    return { embedded, fresh };
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
      return { ...(await lookup(ctx, model, texts)), model };
    },

    async store(ctx: Ctx, model: string, fresh: Fresh[]): Promise<void> {
      if (fresh.length) await asService(ctx, (tx) => storeEmbeddings(tx, model, fresh));
    },
  };
}

export type Embedder = ReturnType<typeof embedder>;
