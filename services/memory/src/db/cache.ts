// The embedding cache: float32 bytes by (model, md5 of the text), in the project's own database.
import type pg from 'pg';
import { oneTrip, type CallerSettings } from '@basalt/db';

/** cached embeddings, read in one round trip: it runs before every add (for every add then waiting, see embedder) */
export async function cachedEmbeddingsOneTrip(pool: pg.Pool, s: CallerSettings, model: string, hashes: string[]): Promise<Map<string, Buffer>> {
  if (hashes.length === 0) return new Map();
  if (!hashes.every((h) => /^[0-9a-f]{32}$/.test(h))) throw new Error('cache keys are md5 hex digests');
  const rows = await oneTrip<{ hash: string; embedding: Buffer }>(pool, s,
    'select hash, embedding from memory.embedding_cache where model = $1 and hash = any($2::text[])', [model, hashes]);
  return new Map(rows.map((r) => [r.hash, r.embedding]));
}

export async function storeEmbeddings(tx: pg.PoolClient, model: string, entries: { hash: string; embedding: Buffer }[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `insert into memory.embedding_cache (model, hash, embedding) select $1, t.hash, t.embedding
     from unnest($2::text[], $3::bytea[]) as t(hash, embedding) on conflict do nothing`,
    [model, entries.map((e) => e.hash), entries.map((e) => e.embedding)],
  );
}

export async function resetProject(tx: pg.PoolClient): Promise<number> {
  const { rowCount } = await tx.query('delete from memory.memories');
  await tx.query('delete from memory.history; delete from memory.entities; delete from memory.events; delete from memory.embedding_cache');
  return rowCount ?? 0;
}
