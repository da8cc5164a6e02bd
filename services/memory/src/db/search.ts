// The three retrieval legs of a search, each bounded to a candidate count: Hamming prefilter on the sign
// codes (exact rescoring happens in the service), full-text rank with ts_rank_cd, and entity links.
import type pg from 'pg';
import type { SqlParams } from '@basalt/db';
import { COLUMNS, type MemoryRow } from './memories.js';

/** candidates nearest by Hamming distance of the sign codes, ids only */
export async function vectorCandidates(tx: pg.PoolClient, where: string, p: SqlParams, model: string, code: string, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `select m.id from memory.memories m
     where m.embedding_model = ${p.add(model)} and bit_length(m.code) = ${p.add(code.length)} and ${where}
     order by bit_count(m.code # ${p.add(code)}::bit varying) limit ${p.add(limit)}`,
    p.values,
  );
  return rows.map((r) => r.id);
}

/** the candidates' rows with their embeddings, for exact rescoring */
export async function candidateRows(tx: pg.PoolClient, ids: string[]): Promise<(MemoryRow & { embedding: Buffer | null; embedding_model: string | null })[]> {
  if (ids.length === 0) return [];
  const { rows } = await tx.query(`select ${COLUMNS}, m.embedding, m.embedding_model from memory.memories m where m.id = any($1::uuid[])`, [ids]);
  return rows;
}

/** candidates matching any of the query's lexemes, ranked by cover density */
export async function keywordCandidates(tx: pg.PoolClient, where: string, p: SqlParams, cfg: string, query: string, limit: number): Promise<{ id: string; rank: number }[]> {
  const q = `(select case when numnode(t) = 0 then null else replace(t::text, ' & ', ' | ')::tsquery end
              from plainto_tsquery(${p.add(cfg)}::regconfig, ${p.add(query)}) t)`;
  const { rows } = await tx.query<{ id: string; rank: number }>(
    `with q as (select ${q} as q)
     select m.id, ts_rank_cd(m.tsv, q.q, 32)::float8 as rank from memory.memories m, q
     where q.q is not null and m.tsv @@ q.q and ${where}
     order by rank desc limit ${p.add(limit)}`,
    p.values,
  );
  return rows;
}

/** entities of the candidate memories whose names occur in the query, with how many memories each links */
export async function entityMatches(tx: pg.PoolClient, memoryIds: string[], query: string): Promise<{ memory_id: string; memory_count: number }[]> {
  if (memoryIds.length === 0) return [];
  const { rows } = await tx.query<{ memory_id: string; memory_count: number }>(
    `select l.memory_id, e.memory_count from memory.entity_links l join memory.entities e on e.id = l.entity_id
     where l.memory_id = any($1::uuid[]) and position(lower(e.name) in lower($2)) > 0`,
    [memoryIds, query],
  );
  return rows;
}
