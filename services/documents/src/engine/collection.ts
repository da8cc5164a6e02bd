// One collection = one table documents."<name>" (id generated from doc->'_id', doc jsonb, types jsonb) plus its
// rows in documents."$indexes". Every method runs on the caller's open transaction (the client is given), so
// a failed statement leaves nothing half-written.
import type pg from 'pg';
import { ObjectId } from 'bson';
import { SqlParams } from '@basalt/db';
import { docErrors } from '../errors.js';
import { compileFilter } from './filter.js';
import { quoteIdent } from './sql.js';
import { loadDoc, storeDoc, type Doc, type StoredRow, type TypedNumber } from './values.js';
import { runPrepared } from './statements.js';
import { sortSql, type SortKey } from './sort.js';
import { applyUpdate, seedFromFilter } from './update.js';
import { hasArrayAlong, type IndexMeta } from './indexes.js';

export type Client = pg.ClientBase;

export function checkCollectionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw docErrors.invalidNamespace('collection name must be a nonempty string');
  if (Buffer.byteLength(name) > 63) throw docErrors.invalidNamespace(`collection name "${name}" is longer than 63 bytes`);
  if (name.includes('$') || name.includes('\0') || name.startsWith('system.')) throw docErrors.invalidNamespace(`invalid collection name "${name}"`);
  return name;
}

export interface CollectionMeta { exists: boolean; indexes: IndexMeta[] }

export interface FindOptions { filter?: Doc; sort?: SortKey[]; skip?: number; limit?: number }
export interface UpdateResult { matched: number; modified: number; upsertedId?: unknown }

export class Collection {
  readonly table: string;
  #indexes: IndexMeta[] | null = null;
  /** #indexes is a cached snapshot's (shared with other requests): copied before anyone may change it */
  #shared = false;
  #exists = false;

  constructor(readonly c: Client, readonly name: string) {
    this.table = `documents.${quoteIdent(checkCollectionName(name))}`;
  }

  /** Loads the index list (and learns whether the table exists) once per operation. */
  async load(): Promise<boolean> {
    const { rows } = await this.c.query(
      `select to_regclass($1) is not null as exists,
        coalesce((select json_agg(i order by i.name) from documents."$indexes" i where i.collection = $2), '[]') as indexes`,
      [this.table, this.name],
    );
    this.#exists = rows[0].exists;
    this.#indexes = rows[0].indexes;
    this.#shared = false;
    return this.#exists;
  }

  get exists() { return this.#exists; }
  /** the index list, this operation's own to change (a cached snapshot is copied on first use here) */
  get indexes(): IndexMeta[] {
    if (this.#shared) {
      this.#indexes = structuredClone(this.#indexes);
      this.#shared = false;
    }
    return (this.#indexes ??= []);
  }
  /** the index list for reading only (no copy of a cached snapshot) */
  get #readIndexes(): readonly IndexMeta[] { return this.#indexes ?? []; }

  /** set when this operation changed the catalogue (table created or dropped, index added, multikey flipped) */
  metaChanged = false;

  /** the catalogue state, for a cache (a copy: later changes here do not leak into it) */
  snapshot(): CollectionMeta {
    return { exists: this.#exists, indexes: structuredClone(this.#readIndexes) as IndexMeta[] };
  }

  /** takes a cached catalogue without copying it: reads share it, the first change works on a copy */
  useSnapshot(m: CollectionMeta): void {
    this.#exists = m.exists;
    this.#indexes = m.indexes;
    this.#shared = true;
  }

  /** paths an index covers and no document holds an array along: compared directly so the index is used */
  scalarPaths(): Set<string> {
    const out = new Set<string>();
    for (const i of this.#readIndexes) if (!i.multikey) for (const [p] of i.key) out.add(p);
    return out;
  }

  where(filter: Doc | undefined, p: SqlParams): string {
    return compileFilter(filter ?? {}, p, { scalarPaths: this.scalarPaths() });
  }

  async create(): Promise<boolean> {
    if (this.#exists) return false;
    await this.c.query(`create table if not exists ${this.table} (
      id jsonb generated always as (doc -> '_id') stored primary key, doc jsonb not null, types jsonb)`);
    await this.c.query(`insert into documents."$collections" (name) values ($1) on conflict do nothing`, [this.name]);
    this.#exists = true;
    this.metaChanged = true;
    return true;
  }

  async find(o: FindOptions): Promise<Doc[]> {
    return (await this.findRows(o)).map(loadDoc);
  }

  /** find's rows in storage form (see loadDoc and relaxedJson) */
  async findRows(o: FindOptions): Promise<StoredRow[]> {
    if (!this.#exists) return [];
    const p = new SqlParams();
    const sql = `select doc, types from ${this.table} where ${this.where(o.filter, p)}${sortSql(o.sort ?? [])}`
      + `${o.limit ? ` limit ${p.add(o.limit)}` : ''}${o.skip ? ` offset ${p.add(o.skip)}` : ''}`;
    return (await runPrepared<StoredRow>(this.c, sql, p.values)).rows;
  }

  async count(filter?: Doc, skip = 0, limit = 0): Promise<number> {
    if (!this.#exists) return 0;
    const p = new SqlParams();
    const inner = `select 1 from ${this.table} where ${this.where(filter, p)}${limit ? ` limit ${p.add(limit)}` : ''}${skip ? ` offset ${p.add(skip)}` : ''}`;
    const { rows } = await runPrepared<{ n: number }>(this.c, `select count(*)::int as n from (${inner}) s`, p.values);
    return rows[0].n;
  }

  async insert(docs: Doc[]): Promise<unknown[]> {
    await this.create();
    const ids: unknown[] = [];
    const texts: string[] = [];
    const types: (string | null)[] = [];
    for (const d of docs) {
      if (d._id === undefined) {
        // _id goes first, as MongoDB stores it
        const rest = { ...d };
        for (const k of Object.keys(rest)) delete d[k];
        Object.assign(d, { _id: new ObjectId() }, rest);
      }
      if (Array.isArray(d._id)) throw docErrors.badValue("The '_id' value cannot be of type array");
      const s = storeDoc(d);
      texts.push(s.text);
      types.push(s.types);
      ids.push(d._id);
    }
    await this.noteArrays(docs);
    await this.run(`insert into ${this.table} (doc, types) select d::jsonb, t::jsonb from unnest($1::text[], $2::text[]) as x(d, t)`, [texts, types]);
    return ids;
  }

  /** Marks indexes multikey before a document with an array along their paths is written. */
  async noteArrays(docs: Doc[]): Promise<void> {
    const hit = this.#readIndexes.filter((i) => !i.multikey && docs.some((d) => i.key.some(([p]) => hasArrayAlong(d, p.split('.'))))).map((i) => i.name);
    if (!hit.length) return;
    await this.c.query(`update documents."$indexes" set multikey = true where collection = $1 and name = any($2)`, [this.name, hit]);
    for (const i of this.indexes) if (hit.includes(i.name)) i.multikey = true;
    this.metaChanged = true;
  }

  /** Updates (operator or replacement) the first or every matching document; upserts when asked. */
  async update(filter: Doc, change: { update?: Doc; replacement?: Doc }, multi: boolean, upsert: boolean, check?: (d: Doc[], inserted: boolean) => Promise<void>): Promise<UpdateResult> {
    const rows = await this.lockMatching(filter, multi ? 0 : 1);
    if (rows.length === 0) {
      if (!upsert) return { matched: 0, modified: 0 };
      const seed = change.replacement ? { ...change.replacement } : applyUpdate(seedFromFilter(filter), change.update!, true);
      if (seed._id === undefined) {
        const f = seedFromFilter(filter);
        if (f._id !== undefined) seed._id = f._id;
      }
      const [id] = await this.insert([seed]);
      await check?.([seed], true);
      return { matched: 0, modified: 0, upsertedId: id };
    }
    const changed: { id: string; doc: Doc }[] = [];
    for (const r of rows) {
      const before = loadDoc(r);
      const after = change.replacement ? { _id: before._id, ...withoutId(change.replacement) } : applyUpdate(before, change.update!);
      if (change.replacement && change.replacement._id !== undefined && storeDoc({ v: change.replacement._id }).text !== storeDoc({ v: before._id }).text) {
        throw docErrors.immutableField('_id');
      }
      if (storeDoc(after).text !== storeDoc(before).text) changed.push({ id: r.id, doc: after });
    }
    if (changed.length) {
      await this.noteArrays(changed.map((x) => x.doc));
      const stored = changed.map((x) => storeDoc(x.doc));
      await this.run(
        `update ${this.table} t set doc = u.d::jsonb, types = u.ty::jsonb from unnest($1::text[], $2::text[], $3::text[]) as u(id, d, ty) where t.id = u.id::jsonb`,
        [changed.map((x) => x.id), stored.map((s) => s.text), stored.map((s) => s.types)],
      );
      await check?.(changed.map((x) => x.doc), false);
    }
    return { matched: rows.length, modified: changed.length };
  }

  async lockMatching(filter: Doc, limit: number): Promise<{ id: string; doc: unknown; types: TypedNumber[] | null }[]> {
    if (!this.#exists) return [];
    const p = new SqlParams();
    const sql = `select id::text as id, doc, types from ${this.table} where ${this.where(filter, p)}${limit ? ` limit ${limit}` : ''} for update`;
    return (await this.c.query(sql, p.values)).rows;
  }

  async delete(filter: Doc, multi: boolean): Promise<number> {
    if (!this.#exists) return 0;
    const p = new SqlParams();
    const w = this.where(filter, p);
    const sql = multi ? `delete from ${this.table} where ${w}` : `delete from ${this.table} where id = (select id from ${this.table} where ${w} limit 1 for update)`;
    return (await this.c.query(sql, p.values)).rowCount ?? 0;
  }

  /** How many of the given ids match the filter (write rules are checked against the stored documents). */
  async countIds(ids: unknown[], filter: Doc): Promise<number> {
    const p = new SqlParams();
    const idList = p.add(ids.map((id) => storeDoc({ v: id }).text.slice(5, -1)));
    const { rows } = await this.c.query(`select count(*)::int as n from ${this.table} where id = any(${idList}::jsonb[]) and ${this.where(filter, p)}`, p.values);
    return rows[0].n;
  }

  async drop(): Promise<boolean> {
    if (!this.#exists) return false;
    await this.c.query(`drop table ${this.table}`);
    await this.c.query(`delete from documents."$indexes" where collection = $1`, [this.name]);
    await this.c.query(`delete from documents."$collections" where name = $1`, [this.name]);
    this.#exists = false;
    this.#indexes = [];
    this.#shared = false;
    this.metaChanged = true;
    return true;
  }

  /** runs a write, turning a unique violation into MongoDB's duplicate key error */
  async run(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.c.query(sql, values);
    } catch (e) {
      const pe = e as { code?: string; constraint?: string; detail?: string };
      if (pe.code === '23505') {
        const index = this.#readIndexes.find((i) => i.pg_name === pe.constraint)?.name ?? '_id_';
        const m = /=\((.*)\) already exists/.exec(pe.detail ?? '');
        throw docErrors.duplicateKey(`E11000 duplicate key error collection: ${this.name} index: ${index} dup key: { ${m?.[1] ?? ''} }`, m?.[1]);
      }
      throw e;
    }
  }
}

const withoutId = (d: Doc) => {
  const { _id: _, ...rest } = d;
  return rest;
};

export async function listCollections(c: Client): Promise<string[]> {
  const { rows } = await c.query(`select name from documents."$collections" c where to_regclass('documents.' || quote_ident(c.name)) is not null order by name`);
  return rows.map((r) => r.name);
}
