// Table descriptions for change payloads and checks, cached briefly (columns change with DDL).
import type pg from 'pg';
import { tableMeta, type TableMeta } from '../db/tables.js';

const TTL_MS = 10_000;

export class TableCache {
  readonly #entries = new Map<string, { at: number; meta: Promise<TableMeta | null> }>();

  constructor(private readonly pool: () => pg.Pool) {}

  get(schema: string, table: string): Promise<TableMeta | null> {
    const key = `${schema}.${table}`;
    const hit = this.#entries.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.meta;
    const meta = tableMeta(this.pool(), schema, table);
    meta.catch(() => this.#entries.delete(key));
    this.#entries.set(key, { at: Date.now(), meta });
    return meta;
  }
}
