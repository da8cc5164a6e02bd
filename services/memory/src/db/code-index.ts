// What the in-process code index reads: an estimate of a project's size, and the codes written since a
// watermark (the xmin of the previous read's snapshot, so rows committed out of order are not missed).
import type pg from 'pg';
import { oneTripMany, type CallerSettings, type SqlParams } from '@basalt/db';

export async function estimatedRows(tx: pg.PoolClient): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(`select greatest(reltuples, 0)::float8 as n from pg_class where oid = 'memory.memories'::regclass`);
  return rows[0]?.n ?? 0;
}

export interface CodeRow {
  id: string;
  /** varbit_send: a 4-byte bit length, then the bits, most significant first */
  code: Buffer;
}

/** the codes written since the watermark, and the next watermark, in one round trip (as the service) */
export async function codesSince(pool: pg.Pool, s: CallerSettings, model: string, bits: number, watermark: string | null, mapError?: (e: unknown) => unknown): Promise<{ rows: CodeRow[]; next: string }> {
  // the watermark is read first: a transaction still open now has an xid at or past it and is re-read next time
  const [[w], rows] = await oneTripMany(pool, s, [
    { text: 'select pg_snapshot_xmin(pg_current_snapshot())::text as xmin', values: [] },
    {
      text: `select id, varbit_send(code) as code from memory.memories
        where embedding_model = $1 and bit_length(code) = $2 and ($3::xid8 is null or xid >= $3::xid8)`,
      values: [model, bits, watermark],
    },
  ], mapError);
  return { rows: rows as CodeRow[], next: (w as { xmin: string }).xmin };
}

/** of the given candidates, those the filters (and RLS) admit, in no particular order */
export async function admitted(tx: pg.PoolClient, ids: string[], where: string, p: SqlParams): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await tx.query<{ id: string }>(`select m.id from memory.memories m where m.id = any(${p.add(ids)}::uuid[]) and ${where}`, p.values);
  return rows.map((r) => r.id);
}
