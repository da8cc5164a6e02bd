// The embedding cache: float32 bytes by (model, md5 of the text), in the project's own database.
import pg from 'pg';
import { beginAsCallerSql, type CallerSettings } from '@basalt/db';

/** cached embeddings, read in one round trip (begin, role, select, commit as one simple query): it runs before every add */
export async function cachedEmbeddingsOneTrip(pool: pg.Pool, s: CallerSettings, model: string, hashes: string[]): Promise<Map<string, Buffer>> {
  if (hashes.length === 0) return new Map();
  if (!hashes.every((h) => /^[0-9a-f]{32}$/.test(h))) throw new Error('cache keys are md5 hex digests');
  const sql = `${beginAsCallerSql(s)}; select hash, embedding from memory.embedding_cache
    where model = ${pg.escapeLiteral(model)} and hash = any('{${hashes.join(',')}}'::text[]); commit`;
  const client = await pool.connect();
  let broken = false;
  try {
    const results = (await client.query(sql)) as unknown as pg.QueryResult<{ hash: string; embedding: Buffer }>[];
    const rows = results[results.length - 2].rows;
    return new Map(rows.map((r) => [r.hash, r.embedding]));
  } catch (e) {
    await client.query('rollback').catch(() => (broken = true));
    throw e;
  } finally {
    client.release(broken);
  }
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
