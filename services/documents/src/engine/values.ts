// The storage form of a document: JSON that Postgres can compare and index, plus a sparse list of typed numbers.
// Numbers are JSON numbers (jsonb numerics are exact), Dates {"$date": ms}, ObjectIds {"$oid": hex}, so jsonb's
// own ordering sorts and ranges them; Int64 and Decimal128 keep their type and exact text in `types`, which is
// recomputed from the whole document on every write, so it never drifts from `doc`.
import { Binary, BSONRegExp, Decimal128, Double, EJSON, Int32, Long, ObjectId, Timestamp } from 'bson';
import { docErrors } from '../errors.js';

export type Doc = Record<string, unknown>;
/** [path, 'long' | 'decimal', exact text], or [path, 'order', keys] for an object whose field order jsonb would change */
export type TypedNumber = [string[], 'long' | 'decimal', string] | [string[], 'order', string[]];

/** jsonb keeps object keys ordered by length, then bytes; MongoDB keeps them as written */
export const jsonbKeyOrder = (a: string, b: string) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b));

export const MAX_DEPTH = 100;
export const MAX_DOC_BYTES = 16 * 1024 * 1024;

export const isPlainObject = (v: unknown): v is Doc =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** JSON text of a value in storage form; collects typed numbers with their paths. */
export function toStorage(value: unknown, types?: TypedNumber[], path: string[] = [], depth = 0): string {
  if (depth > MAX_DEPTH) throw docErrors.tooDeep(MAX_DEPTH);
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string': return JSON.stringify(value);
    case 'boolean': return value ? 'true' : 'false';
    case 'number': return numberText(value);
    case 'bigint': types?.push([path, 'long', value.toString()]); return value.toString();
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => toStorage(v, types, [...path, String(i)], depth + 1)).join(',')}]`;
  if (value instanceof Int32 || value instanceof Double) return numberText(value.valueOf());
  if (value instanceof Long) {
    types?.push([path, 'long', value.toString()]);
    return value.toString();
  }
  if (value instanceof Decimal128) {
    const text = value.toString();
    if (!/^-?\d+(\.\d+)?(E[+-]?\d+)?$/i.test(text)) return JSON.stringify({ $numberDecimal: text });
    types?.push([path, 'decimal', text]);
    return text.replace(/E\+?/i, 'e');
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw docErrors.badValue('invalid Date');
    return `{"$date":${ms}}`;
  }
  if (value instanceof ObjectId) return `{"$oid":"${value.toHexString()}"}`;
  if (value instanceof Binary || value instanceof BSONRegExp || value instanceof Timestamp || value instanceof RegExp) {
    return EJSON.stringify(value, { relaxed: false });
  }
  if (isPlainObject(value)) {
    const parts: string[] = [];
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (types && keys.length > 1 && keys.some((k, i) => i > 0 && jsonbKeyOrder(keys[i - 1], k) > 0)) types.push([path, 'order', keys]);
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${toStorage(v, types, [...path, k], depth + 1)}`);
    }
    return `{${parts.join(',')}}`;
  }
  const bsontype = (value as { _bsontype?: string })._bsontype;
  if (bsontype) return EJSON.stringify(value, { relaxed: false });
  throw docErrors.badValue(`cannot store a value of type ${Object.prototype.toString.call(value)}`);
}

function numberText(n: number): string {
  if (Number.isFinite(n)) return Object.is(n, -0) ? '0' : String(n);
  return JSON.stringify({ $numberDouble: String(n) });
}

/** A stored value (parsed jsonb) back to its BSON values. */
export function fromStorage(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromStorage);
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length >= 1 && keys[0].startsWith('$')) {
    if (keys.length === 1 && keys[0] === '$oid') return new ObjectId(value.$oid as string);
    if (keys.length === 1 && keys[0] === '$date') return new Date(value.$date as number);
    return EJSON.deserialize(value, { relaxed: false });
  }
  const out: Doc = {};
  for (const k of keys) out[k] = fromStorage(value[k]);
  return out;
}

/** Restores Int64 and Decimal128 values recorded in `types`. */
export function applyTypes(doc: Doc, types: TypedNumber[] | null | undefined): Doc {
  if (!types) return doc;
  for (const [path, type, text] of types) {
    if (type === 'order') {
      reorder(path.length ? nodeAt(doc, path) : doc, text);
      continue;
    }
    let node: any = doc;
    for (let i = 0; i < path.length - 1 && node != null; i++) node = node[path[i]];
    const last = path[path.length - 1];
    if (node == null || typeof node !== 'object' || !(last in node)) continue;
    node[last] = type === 'long' ? Long.fromString(text) : Decimal128.fromString(text);
  }
  return doc;
}

function nodeAt(doc: Doc, path: string[]): unknown {
  let node: any = doc;
  for (const p of path) node = node == null ? undefined : node[p];
  return node;
}

function reorder(node: unknown, keys: string[]): void {
  if (!isPlainObject(node)) return;
  const copy = { ...node };
  for (const k of Object.keys(copy)) delete node[k];
  for (const k of keys) if (k in copy) node[k] = copy[k];
  for (const k of Object.keys(copy)) if (!(k in node)) node[k] = copy[k];
}

export interface StoredDoc { text: string; types: string | null; bytes: number }

/** A document ready for INSERT/UPDATE: its JSON text, typed numbers and size (checked against 16 MB). */
export function storeDoc(doc: Doc): StoredDoc {
  const types: TypedNumber[] = [];
  const text = toStorage(doc, types);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_DOC_BYTES) throw docErrors.tooLarge(bytes);
  return { text, types: types.length ? JSON.stringify(types) : null, bytes };
}

/** a row as stored: `doc` (parsed jsonb) and its typed-number list */
export interface StoredRow { doc: unknown; types: TypedNumber[] | null }

export const loadDoc = (row: StoredRow): Doc => applyTypes(fromStorage(row.doc) as Doc, row.types);

/**
 * A stored row as relaxed Extended JSON text: what `EJSON.stringify(loadDoc(row), {relaxed: true})` gives,
 * without building BSON values first. Stored JSON is already that text for the values most documents hold
 * (strings, finite numbers, booleans, null, arrays, objects, ObjectIds as {"$oid": hex}); dates become relaxed
 * dates and field order is restored from `types`. A row holding anything else (Int64 or Decimal128 in `types`,
 * other `$` forms, a `__proto__` field) goes the long way. Consumes the row.
 */
export function relaxedJson(row: StoredRow): string {
  const types = row.types;
  if (types) {
    for (const t of types) if (t[1] !== 'order') return slowRelaxed(row);
  }
  const doc = row.doc;
  if (!isPlainObject(doc)) return slowRelaxed(row);
  const form = plainForm(doc, 0);
  if (form === NOT_PLAIN) return slowRelaxed(row);
  if (form === WITH_DATES) relaxDates(doc);
  return JSON.stringify(types ? withOrders(doc, types) : doc);
}

/** applyTypes' field orders, by building the reordered objects anew (deleting keys slows an object down) */
function withOrders(doc: Doc, types: TypedNumber[]): Doc {
  let root = doc;
  for (const [path, , keys] of types as [string[], 'order', string[]][]) {
    if (path.length === 0) {
      root = ordered(root, keys);
      continue;
    }
    const parent = nodeAt(root, path.slice(0, -1)) as Record<string, unknown> | undefined;
    const last = path[path.length - 1];
    if (parent !== null && typeof parent === 'object' && isPlainObject(parent[last])) parent[last] = ordered(parent[last], keys);
  }
  return root;
}

function ordered(node: Doc, keys: string[]): Doc {
  const out: Doc = {};
  for (const k of keys) if (Object.hasOwn(node, k)) out[k] = node[k];
  for (const k of Object.keys(node)) if (!Object.hasOwn(out, k)) out[k] = node[k];
  return out;
}

const slowRelaxed = (row: StoredRow) => EJSON.stringify(loadDoc(row), { relaxed: true });
const OID = /^[0-9a-f]{24}$/;
/** the range in which relaxed EJSON writes a date as an ISO string (bson's own bounds) */
const ISO_DATES = [-1, 253402300800000] as const;

const NOT_PLAIN = 0;
const PLAIN = 1;
const WITH_DATES = 2;

/**
 * Whether a stored value is its own relaxed EJSON text (PLAIN), is once its dates are rewritten (WITH_DATES), or
 * holds something only the long way renders (NOT_PLAIN). Looks only: nothing changes until the whole is known.
 */
function plainForm(v: unknown, depth: number): number {
  if (depth > MAX_DEPTH + 1) return NOT_PLAIN;
  let form = PLAIN;
  if (Array.isArray(v)) {
    for (const x of v) {
      if (x === null || typeof x !== 'object') continue;
      const f = isStoredDate(x) ? WITH_DATES : plainForm(x, depth + 1);
      if (f === NOT_PLAIN) return NOT_PLAIN;
      if (f === WITH_DATES) form = WITH_DATES;
    }
    return form;
  }
  const o = v as Doc;
  const keys = Object.keys(o);
  if (keys.length >= 1 && keys[0].startsWith('$')) {
    return keys.length === 1 && keys[0] === '$oid' && typeof o.$oid === 'string' && OID.test(o.$oid) ? PLAIN : NOT_PLAIN;
  }
  for (const k of keys) {
    if (k.startsWith('$') || k === '__proto__') return NOT_PLAIN;
    const x = o[k];
    if (x === null || typeof x !== 'object') continue;
    const f = isStoredDate(x) ? WITH_DATES : plainForm(x, depth + 1);
    if (f === NOT_PLAIN) return NOT_PLAIN;
    if (f === WITH_DATES) form = WITH_DATES;
  }
  return form;
}

/** Rewrites the stored dates of a PLAIN-but-for-dates value into relaxed EJSON dates, in place. */
function relaxDates(v: unknown): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== null && typeof x === 'object') {
        if (isStoredDate(x)) v[i] = relaxedDate(x.$date);
        else relaxDates(x);
      }
    }
    return;
  }
  const o = v as Doc;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (x !== null && typeof x === 'object') {
      if (isStoredDate(x)) o[k] = relaxedDate(x.$date);
      else relaxDates(x);
    }
  }
}

/** {"$date": ms}, as stored (a Date in fromStorage) */
function isStoredDate(x: object): x is { $date: number } {
  if (Array.isArray(x)) return false;
  const ms = (x as Doc).$date;
  // a time value Date accepts (|ms| ≤ 8.64e15); beyond that fromStorage's Date would be invalid
  return typeof ms === 'number' && Math.abs(ms) <= 8.64e15 && Object.keys(x).length === 1;
}

/** a stored date's ms as relaxed EJSON writes the Date (bson's bounds and format) */
function relaxedDate(ms: number): Doc {
  const date = new Date(ms);
  const t = date.getTime();
  if (t > ISO_DATES[0] && t < ISO_DATES[1]) {
    const iso = date.toISOString();
    return { $date: date.getUTCMilliseconds() !== 0 ? iso : `${iso.slice(0, -5)}Z` };
  }
  return { $date: { $numberLong: String(t) } };
}

/** Numbers of any BSON type as a JS number, or undefined. */
export function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Decimal128) return Number(v.toString());
  return undefined;
}

export const isNumeric = (v: unknown) => asNumber(v) !== undefined;

/** Checks field names of a document to be stored: no `$` prefix, no empty names, no NUL. */
export function checkFieldNames(doc: unknown, depth = 0): void {
  if (depth > MAX_DEPTH) throw docErrors.tooDeep(MAX_DEPTH);
  if (Array.isArray(doc)) return doc.forEach((v) => checkFieldNames(v, depth + 1));
  if (!isPlainObject(doc)) return;
  for (const [k, v] of Object.entries(doc)) {
    if (k.startsWith('$')) throw docErrors.badValue(`field name "${k}" may not start with '$' in a stored document`);
    if (k.includes('\0')) throw docErrors.badValue('field names may not contain NUL');
    checkFieldNames(v, depth + 1);
  }
}
