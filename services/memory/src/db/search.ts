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

/** the candidates' rows with their embeddings, for exact rescoring (sent as base64: two thirds of hex's bytes) */
export async function candidateRows(tx: pg.PoolClient, ids: string[]): Promise<(MemoryRow & { embedding: Buffer | null; embedding_model: string | null })[]> {
  if (ids.length === 0) return [];
  const { rows } = await tx.query<MemoryRow & { embedding: string | null; embedding_model: string | null }>(
    `select ${COLUMNS}, encode(m.embedding, 'base64') as embedding, m.embedding_model from memory.memories m where m.id = any($1::uuid[])`, [ids]);
  return rows.map((r) => ({ ...r, embedding: r.embedding === null ? null : Buffer.from(r.embedding, 'base64') }));
}

/** the search text as a tsquery matching any of its lexemes (the text of plainto_tsquery with | for &), or null */
const ANY_LEXEME = (cfg: string, query: string) => `(select case when numnode(t) = 0 then null else replace(t::text, ' & ', ' | ')::tsquery end
  from plainto_tsquery(${cfg}::regconfig, ${query}) t)`;

/** a tsquery's text when it is only quoted lexemes joined by |, as plainto_tsquery's lexemes are: those lexemes */
const LEXEME = /'(?:[^']|'')*'/g;
const OR_OF_LEXEMES = new RegExp(`^${LEXEME.source}(?: \\| ${LEXEME.source})*$`);
export function orLexemes(text: string): string[] | null {
  if (!OR_OF_LEXEMES.test(text)) return null;
  return [...new Set(text.match(LEXEME) ?? [])];
}

/** lexemes past which a search text is ranked the plain way (one ts_rank_cd per lexeme would cost more) */
const MAX_SPLIT_LEXEMES = 32;

/** the search text as a tsquery matching any of its lexemes, or null when it has none (see keywordCandidates) */
export async function keywordQuery(tx: pg.PoolClient, cfg: string, query: string): Promise<string | null> {
  const { rows: [{ q }] } = await tx.query<{ q: string | null }>(`select ${ANY_LEXEME('$1', '$2')}::text as q`, [cfg, query]);
  return q;
}

/**
 * Candidates matching any of the query's lexemes (`q`, from keywordQuery), ranked by cover density:
 * ts_rank_cd(tsv, l1 | l2 | …, 32). That rank is slow for a disjunction (ts_rank_cd walks every cover, evaluating the
 * query at each position), and a common word matches thousands of memories. For a disjunction of plain lexemes each
 * cover is one position holding a lexeme, so the rank is W/(W+1) with W the sum of the lexemes' own ts_rank_cd (no
 * normalisation), several times cheaper: the best `limit` are chosen by that sum, and their true rank is computed.
 * Should that true rank disagree with the sum for any of them, the plain ranking is run instead.
 */
export async function keywordCandidates(tx: pg.PoolClient, where: () => { p: SqlParams; where: string }, q: string, limit: number): Promise<{ id: string; rank: number }[]> {
  const lexemes = orLexemes(q);
  if (lexemes && lexemes.length <= MAX_SPLIT_LEXEMES) {
    const w = where();
    const tsq = w.p.add(q);
    const sum = lexemes.map((l) => {
      const one = `${w.p.add(l)}::tsquery`;
      return `case when m.tsv @@ ${one} then ts_rank_cd(m.tsv, ${one}, 0)::float8 else 0 end`; // absent: 0, and the @@ is cheap
    }).join(' + ');
    const { rows } = await tx.query<{ id: string; rank: number; w: number }>(
      `with top as (
         select m.id, m.tsv, ${sum} as w from memory.memories m
         where m.tsv @@ ${tsq}::tsquery and ${w.where}
         order by w desc limit ${w.p.add(limit)}
       )
       select id, ts_rank_cd(tsv, ${tsq}::tsquery, 32)::float8 as rank, w from top`,
      w.p.values,
    );
    if (rows.every((r) => Math.abs(r.rank - r.w / (r.w + 1)) <= 1e-6)) return rows.map(({ id, rank }) => ({ id, rank }));
  }
  const w = where();
  const tsq = w.p.add(q);
  const { rows } = await tx.query<{ id: string; rank: number }>(
    `select m.id, ts_rank_cd(m.tsv, ${tsq}::tsquery, 32)::float8 as rank from memory.memories m
     where m.tsv @@ ${tsq}::tsquery and ${w.where}
     order by rank desc limit ${w.p.add(limit)}`,
    w.p.values,
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
