// createIndex as Postgres expression indexes over the same `doc #> '{path}'` expressions the filter and sort
// compilers emit (ascending keys NULLS FIRST, as MongoDB orders missing values), so the planner uses them.
// TTL indexes are also recorded for the sweeper, which deletes documents whose date is older than the TTL.
import { createHash } from 'node:crypto';
import { docErrors } from '../errors.js';
import type { Collection } from './collection.js';
import { parsePath, pathExpr, quoteIdent } from './sql.js';
import { asNumber, isPlainObject, type Doc } from './values.js';

export interface IndexMeta {
  collection: string;
  name: string;
  key: [string, 1 | -1][];
  unique: boolean;
  expire_after: number | null;
  multikey: boolean;
  pg_name: string;
}

export interface IndexSpec { key: Doc; name?: string; unique?: boolean; expireAfterSeconds?: number; [k: string]: unknown }

const IGNORED_OPTIONS = new Set(['v', 'background', 'ns', 'sparse']);

export function hasArrayAlong(doc: unknown, path: string[]): boolean {
  let node: unknown = doc;
  for (const p of path) {
    if (Array.isArray(node)) return true;
    if (!isPlainObject(node) || !(p in node)) return false;
    node = node[p];
  }
  return Array.isArray(node);
}

export function parseIndexSpec(spec: unknown): { key: [string, 1 | -1][]; name: string; unique: boolean; ttl: number | null } {
  if (!isPlainObject(spec) || !isPlainObject(spec.key) || Object.keys(spec.key).length === 0) throw docErrors.badValue('an index needs a nonempty key document');
  const key = Object.entries(spec.key).map(([k, v]) => {
    const d = asNumber(v);
    if (d !== 1 && d !== -1) throw docErrors.cannotCreateIndex(`index type ${JSON.stringify(v)} on "${k}" is not supported (only 1 and -1)`);
    parsePath(k);
    return [k, d] as [string, 1 | -1];
  });
  for (const k of Object.keys(spec)) {
    if (!['key', 'name', 'unique', 'expireAfterSeconds'].includes(k) && !IGNORED_OPTIONS.has(k)) throw docErrors.cannotCreateIndex(`index option ${k} is not supported`);
  }
  const name = spec.name === undefined ? key.map(([k, d]) => `${k}_${d}`).join('_') : spec.name;
  if (typeof name !== 'string' || !name || name === '_id_') throw docErrors.cannotCreateIndex('invalid index name');
  let ttl: number | null = null;
  if (spec.expireAfterSeconds !== undefined) {
    ttl = asNumber(spec.expireAfterSeconds) ?? NaN;
    if (!Number.isInteger(ttl) || ttl < 0) throw docErrors.cannotCreateIndex('expireAfterSeconds must be a nonnegative integer');
    if (key.length !== 1) throw docErrors.cannotCreateIndex('a TTL index has exactly one key');
  }
  return { key, name, unique: spec.unique === true, ttl };
}

/** Creates the index unless one of that name exists with the same key; returns whether it was created. */
export async function createIndex(coll: Collection, spec: unknown): Promise<boolean> {
  const s = parseIndexSpec(spec);
  const existing = coll.indexes.find((i) => i.name === s.name);
  if (existing) {
    if (JSON.stringify(existing.key) === JSON.stringify(s.key) && existing.unique === s.unique) return false;
    throw docErrors.indexConflict(s.name);
  }
  await coll.create();
  const pgName = `ix_${createHash('sha256').update(`${coll.name}\0${s.name}`).digest('hex').slice(0, 24)}`;
  const cols = s.key.map(([k, d]) => `${pathExpr('doc', parsePath(k))} ${d === 1 ? 'asc nulls first' : 'desc nulls last'}`).join(', ');
  await coll.run(`create ${s.unique ? 'unique ' : ''}index ${quoteIdent(pgName)} on ${coll.table} (${cols})`, []);
  const arrays = s.key.map(([k]) => {
    const parts = parsePath(k);
    return parts.map((_, i) => `jsonb_typeof(${pathExpr('doc', parts.slice(0, i + 1))}) = 'array'`).join(' or ');
  }).join(' or ');
  const { rows } = await coll.c.query(`select exists (select 1 from ${coll.table} where ${arrays}) as multikey`);
  await coll.c.query(
    `insert into documents."$indexes" (collection, name, key, "unique", expire_after, multikey, pg_name) values ($1, $2, $3, $4, $5, $6, $7)`,
    [coll.name, s.name, JSON.stringify(s.key), s.unique, s.ttl, rows[0].multikey, pgName],
  );
  coll.indexes.push({ collection: coll.name, name: s.name, key: s.key, unique: s.unique, expire_after: s.ttl, multikey: rows[0].multikey, pg_name: pgName });
  coll.metaChanged = true;
  return true;
}

export async function dropIndex(coll: Collection, name: string): Promise<void> {
  const ix = coll.indexes.find((i) => i.name === name);
  if (!ix) throw docErrors.indexNotFound(name);
  await coll.c.query(`drop index documents.${quoteIdent(ix.pg_name)}`);
  await coll.c.query(`delete from documents."$indexes" where collection = $1 and name = $2`, [coll.name, name]);
  coll.indexes.splice(coll.indexes.indexOf(ix), 1);
  coll.metaChanged = true;
}

/** listIndexes' documents, `_id_` first */
export function describeIndexes(coll: Collection): Doc[] {
  return [
    { v: 2, key: { _id: 1 }, name: '_id_' },
    ...coll.indexes.map((i) => ({
      v: 2, key: Object.fromEntries(i.key), name: i.name, ...(i.unique ? { unique: true } : {}), ...(i.expire_after !== null ? { expireAfterSeconds: i.expire_after } : {}),
    })),
  ];
}

/** Deletes documents past their TTL in every TTL index of this database; returns how many went. */
export async function sweepTtl(c: Collection['c'], now = Date.now()): Promise<number> {
  const { rows } = await c.query(`select collection, key, expire_after from documents."$indexes" where expire_after is not null`);
  let n = 0;
  for (const r of rows) {
    const path = parsePath(r.key[0][0]);
    const e = pathExpr('doc', path);
    const cutoff = now - r.expire_after * 1000;
    // the range on the indexed expression uses the TTL index; `? '$date'` keeps non-dates out
    const res = await c.query(
      `delete from documents.${quoteIdent(r.collection)} where ${e} < $1::jsonb and ${e} > '{"$date": -9e15}'::jsonb and ${e} ? '$date'`,
      [JSON.stringify({ $date: cutoff })],
    );
    n += res.rowCount ?? 0;
  }
  return n;
}
