// Update operators applied to a document in JS, inside the transaction that holds the row lock. Whole-document
// rewrites keep `types` exact and let the same code build upserts.
import { Decimal128, Double, Int32, Long, Timestamp } from 'bson';
import { docErrors } from '../errors.js';
import { compareValues, valuesEqual, ValueSet } from './compare.js';
import { fieldMatches, matches } from './match.js';
import { parsePath } from './sql.js';
import { asNumber, checkFieldNames, isPlainObject, type Doc } from './values.js';

const OPS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$push', '$pull', '$addToSet', '$pop', '$currentDate', '$setOnInsert']);

export const isOperatorUpdate = (u: Doc) => Object.keys(u).some((k) => k.startsWith('$'));

/** Validates an update document up front (operators known, no conflicting paths, `_id` untouched). */
export function checkUpdate(update: unknown): Doc {
  if (Array.isArray(update)) throw docErrors.unsupported('an aggregation pipeline as an update');
  if (!isPlainObject(update) || Object.keys(update).length === 0) throw docErrors.failedToParse('update must be a nonempty document');
  if (!isOperatorUpdate(update)) throw docErrors.failedToParse('Update document requires atomic operators');
  const seen: string[] = [];
  for (const [op, spec] of Object.entries(update)) {
    if (!op.startsWith('$')) throw docErrors.failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update`);
    if (!OPS.has(op)) throw docErrors.unknownOperator(op, 'update');
    if (!isPlainObject(spec)) throw docErrors.failedToParse(`Modifiers operate on fields but we found type ${typeof spec} instead`);
    for (const key of Object.keys(spec)) {
      const paths = op === '$rename' ? [key, String(spec[key])] : [key];
      for (const path of paths) {
        parsePath(path);
        if (path === '_id' || path.startsWith('_id.')) throw docErrors.immutableField('_id');
        for (const s of seen) if (s === path || s.startsWith(`${path}.`) || path.startsWith(`${s}.`)) throw docErrors.conflictingUpdate(path);
        seen.push(path);
      }
    }
  }
  return update;
}

/** Top-level fields an update writes (for field allow-lists). */
export function updatedFields(update: Doc): string[] {
  const out = new Set<string>();
  for (const [op, spec] of Object.entries(update)) {
    for (const [k, v] of Object.entries(spec as Doc)) {
      out.add(k.split('.')[0]);
      if (op === '$rename') out.add(String(v).split('.')[0]);
    }
  }
  return [...out];
}

/** Applies an operator update to a copy of `doc`; `inserting` enables $setOnInsert. */
export function applyUpdate(doc: Doc, update: Doc, inserting = false, now = new Date()): Doc {
  const out = structuredCloneDoc(doc);
  for (const [op, spec] of Object.entries(update)) {
    for (const [path, arg] of Object.entries(spec as Doc)) applyOne(out, op, parsePath(path), arg, inserting, now);
  }
  checkFieldNames(out);
  return out;
}

function applyOne(doc: Doc, op: string, path: string[], arg: unknown, inserting: boolean, now: Date): void {
  const cur = getPath(doc, path);
  switch (op) {
    case '$set': return setPath(doc, path, arg);
    case '$setOnInsert': return inserting ? setPath(doc, path, arg) : undefined;
    case '$unset': return unsetPath(doc, path);
    case '$inc': case '$mul': {
      if (asNumber(arg) === undefined) throw docErrors.typeMismatch(`Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path.join('.')}: ${String(arg)}}`);
      if (cur.found && asNumber(cur.value) === undefined) throw docErrors.typeMismatch(`Cannot apply ${op} to a value of non-numeric type. Field '${path.join('.')}' has a non-numeric value`);
      return setPath(doc, path, arith(op, cur.found ? cur.value : 0, arg));
    }
    case '$min': case '$max': {
      const c = cur.found ? compareValues(arg, cur.value) : 0;
      if (!cur.found || (op === '$min' ? c < 0 : c > 0)) setPath(doc, path, arg);
      return;
    }
    case '$rename': {
      if (typeof arg !== 'string') throw docErrors.badValue('The \'to\' field for $rename must be a string');
      if (!cur.found) return;
      unsetPath(doc, path);
      return setPath(doc, parsePath(arg), cur.value);
    }
    case '$currentDate': {
      const ts = isPlainObject(arg) && arg.$type === 'timestamp';
      if (!(arg === true || (isPlainObject(arg) && (arg.$type === 'date' || ts)))) throw docErrors.badValue('$currentDate needs true or {$type: "date" | "timestamp"}');
      return setPath(doc, path, ts ? new Timestamp({ t: Math.floor(now.getTime() / 1000), i: 1 }) : new Date(now));
    }
    case '$push': case '$addToSet': {
      const arr = arrayAt(cur, op, path);
      const each = isPlainObject(arg) && '$each' in arg;
      if (each && !Array.isArray((arg as Doc).$each)) throw docErrors.badValue('$each needs an array');
      const items = each ? ((arg as Doc).$each as unknown[]) : [arg];
      if (op === '$addToSet') {
        if (each && Object.keys(arg as Doc).length > 1) throw docErrors.badValue('$addToSet takes only $each as a modifier');
        const present = new ValueSet();
        for (const x of arr) present.add(x);
        for (const it of items) if (present.add(it)) arr.push(it);
      } else {
        push(arr, items, each ? (arg as Doc) : {});
      }
      return setPath(doc, path, arr);
    }
    case '$pop': {
      if (!cur.found) return;
      if (!Array.isArray(cur.value)) throw docErrors.typeMismatch(`Path '${path.join('.')}' contains an element of non-array type`);
      const n = asNumber(arg);
      if (n !== 1 && n !== -1) throw docErrors.failedToParse('$pop expects 1 or -1');
      if (n === 1) cur.value.pop(); else cur.value.shift();
      return;
    }
    case '$pull': {
      if (!cur.found) return;
      if (!Array.isArray(cur.value)) throw docErrors.badValue('Cannot apply $pull to a non-array value');
      const keep = cur.value.filter((el) => !pullMatches(el, arg));
      return setPath(doc, path, keep);
    }
  }
}

function pullMatches(el: unknown, cond: unknown): boolean {
  if (isPlainObject(cond) && Object.keys(cond).length > 0) {
    if (Object.keys(cond)[0].startsWith('$')) return fieldMatches(el, [], cond);
    return isPlainObject(el) && matches(el, cond);
  }
  return valuesEqual(el, cond);
}

function push(arr: unknown[], items: unknown[], mods: Doc): void {
  for (const k of Object.keys(mods)) if (!['$each', '$slice', '$sort', '$position'].includes(k)) throw docErrors.badValue(`unrecognized clause in $push: ${k}`);
  const pos = mods.$position === undefined ? arr.length : asNumber(mods.$position);
  if (pos === undefined || !Number.isInteger(pos)) throw docErrors.badValue('$position must be an integer');
  arr.splice(pos < 0 ? Math.max(0, arr.length + pos) : Math.min(pos, arr.length), 0, ...items);
  if (mods.$sort !== undefined) {
    const s = mods.$sort;
    if (isPlainObject(s)) {
      const keys = Object.entries(s).map(([k, d]) => [parsePath(k), asNumber(d)] as const);
      if (keys.some(([, d]) => d !== 1 && d !== -1)) throw docErrors.badValue('$sort directions must be 1 or -1');
      arr.sort((a, b) => {
        for (const [p, d] of keys) {
          const c = compareValues(getPath(a as Doc, p).value ?? null, getPath(b as Doc, p).value ?? null);
          if (c) return c * d!;
        }
        return 0;
      });
    } else {
      const d = asNumber(s);
      if (d !== 1 && d !== -1) throw docErrors.badValue('$sort must be 1, -1 or a document of fields');
      arr.sort((a, b) => compareValues(a, b) * d);
    }
  }
  if (mods.$slice !== undefined) {
    const n = asNumber(mods.$slice);
    if (n === undefined || !Number.isInteger(n)) throw docErrors.badValue('$slice must be an integer');
    const kept = n >= 0 ? arr.slice(0, n) : arr.slice(n);
    arr.splice(0, arr.length, ...kept);
  }
}

function arrayAt(cur: { found: boolean; value: unknown }, op: string, path: string[]): unknown[] {
  if (!cur.found) return [];
  if (!Array.isArray(cur.value)) throw docErrors.typeMismatch(`The field '${path.join('.')}' must be an array but is of type ${typeof cur.value} (${op})`);
  return cur.value;
}

function arith(op: string, a: unknown, b: unknown): unknown {
  if (a instanceof Decimal128 || b instanceof Decimal128) {
    const x = Number(asNumber(a));
    const y = Number(asNumber(b));
    return Decimal128.fromString(String(op === '$inc' ? x + y : x * y));
  }
  const isLong = (v: unknown) => v instanceof Long || typeof v === 'bigint';
  const toLong = (v: unknown) => (v instanceof Long ? v : Long.fromNumber(asNumber(v)!));
  const intLike = (v: unknown) => isLong(v) || v instanceof Int32 || (typeof v === 'number' && Number.isInteger(v));
  if ((isLong(a) || isLong(b)) && intLike(a) && intLike(b)) return op === '$inc' ? toLong(a).add(toLong(b)) : toLong(a).multiply(toLong(b));
  const x = asNumber(a)!;
  const y = asNumber(b)!;
  const r = op === '$inc' ? x + y : x * y;
  return b instanceof Double && Number.isInteger(r) ? new Double(r) : r;
}

export function getPath(doc: unknown, path: string[]): { found: boolean; value: unknown } {
  let node: unknown = doc;
  for (const p of path) {
    if (Array.isArray(node) && /^\d+$/.test(p)) node = node[Number(p)];
    else if (isPlainObject(node) && p in node) node = node[p];
    else return { found: false, value: undefined };
    if (node === undefined) return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

export function setPath(doc: Doc, path: string[], value: unknown): void {
  let node: any = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const p = path[i];
    let next = Array.isArray(node) && /^\d+$/.test(p) ? node[Number(p)] : node[p];
    if (next === undefined || next === null) {
      next = {};
      if (Array.isArray(node)) setIndex(node, p, next); else node[p] = next;
    } else if (typeof next !== 'object' || next instanceof Date || (!Array.isArray(next) && !isPlainObject(next))) {
      throw docErrors.badValue(`Cannot create field '${path[i + 1]}' in element {${p}: ${String(next)}}`);
    }
    node = next;
  }
  const last = path[path.length - 1];
  if (Array.isArray(node)) setIndex(node, last, value); else node[last] = value;
}

function setIndex(arr: unknown[], p: string, value: unknown): void {
  if (!/^\d+$/.test(p)) throw docErrors.badValue(`Cannot create field '${p}' in an array`);
  const i = Number(p);
  if (i > 1_000_000) throw docErrors.badValue('array index too large');
  while (arr.length < i) arr.push(null);
  arr[i] = value;
}

export function unsetPath(doc: Doc, path: string[]): void {
  const parent = getPath(doc, path.slice(0, -1));
  if (!parent.found) return;
  const last = path[path.length - 1];
  if (Array.isArray(parent.value)) {
    if (/^\d+$/.test(last) && Number(last) < parent.value.length) parent.value[Number(last)] = null; // MongoDB leaves null
  } else if (isPlainObject(parent.value)) delete parent.value[last];
}

/** Deep copy that keeps BSON class instances (ObjectId, Long, Date…) as they are (they are immutable here). */
export function structuredCloneDoc<T>(v: T): T {
  if (Array.isArray(v)) return v.map(structuredCloneDoc) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (isPlainObject(v)) {
    const o: Doc = {};
    for (const [k, x] of Object.entries(v)) o[k] = structuredCloneDoc(x);
    return o as T;
  }
  return v;
}

/** The document an upsert starts from: the filter's equality conditions on plain fields. */
export function seedFromFilter(filter: Doc): Doc {
  const out: Doc = {};
  const visit = (f: Doc) => {
    for (const [k, v] of Object.entries(f)) {
      if (k === '$and' && Array.isArray(v)) v.forEach((x) => isPlainObject(x) && visit(x));
      else if (k.startsWith('$')) continue;
      else if (isPlainObject(v) && Object.keys(v)[0]?.startsWith('$')) {
        if ('$eq' in v) setPath(out, parsePath(k), structuredCloneDoc(v.$eq));
      } else setPath(out, parsePath(k), structuredCloneDoc(v));
    }
  };
  visit(filter);
  return out;
}
