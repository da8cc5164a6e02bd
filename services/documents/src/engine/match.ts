// The same query language evaluated in JS, for documents that are not rows (aggregation stages after $group or
// $unwind, $pull conditions). Semantics follow filter.ts: dotted paths fan out over arrays, comparisons stay
// within a type bracket, null matches missing.
import { BSONRegExp, Decimal128, Double, Int32, Long } from 'bson';
import { docErrors } from '../errors.js';
import { compareValues, typeRank, valuesEqual } from './compare.js';
import { parsePath } from './sql.js';
import { asNumber, isPlainObject, MAX_DEPTH, type Doc } from './values.js';

/** Every value a dotted path reaches (array elements are visited, and arrays themselves are candidates too). */
export function pathValues(value: unknown, path: string[], out: unknown[] = []): unknown[] {
  if (path.length === 0) {
    out.push(value);
    return out;
  }
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(head) && Number(head) < value.length) pathValues(value[Number(head)], rest, out);
    for (const el of value) if (isPlainObject(el)) pathValues(el, path, out);
    return out;
  }
  if (isPlainObject(value) && head in value) pathValues(value[head], rest, out);
  return out;
}

/** candidates for comparison: the values, and the elements of arrays among them */
function candidates(doc: unknown, path: string[]): unknown[] {
  const vals = pathValues(doc, path);
  const out: unknown[] = [];
  for (const v of vals) {
    out.push(v);
    if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

export function matches(doc: unknown, filter: Doc, depth = 0): boolean {
  if (depth > MAX_DEPTH) throw docErrors.tooDeep(MAX_DEPTH);
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value) || value.length === 0) throw docErrors.badValue(`${key} must be a nonempty array`);
      const rs = value.map((f) => matches(doc, f as Doc, depth + 1));
      const ok = key === '$and' ? rs.every(Boolean) : key === '$or' ? rs.some(Boolean) : !rs.some(Boolean);
      if (!ok) return false;
      continue;
    }
    if (key === '$where' || key === '$function') throw docErrors.javascript(key);
    if (key === '$comment') continue;
    if (key.startsWith('$')) throw docErrors.unknownOperator(key);
    if (!fieldMatches(doc, parsePath(key), value, depth)) return false;
  }
  return true;
}

const isOps = (v: unknown): v is Doc => isPlainObject(v) && Object.keys(v).length > 0 && Object.keys(v)[0].startsWith('$');

export function fieldMatches(doc: unknown, path: string[], cond: unknown, depth = 0): boolean {
  if (!isOps(cond)) return eqMatch(doc, path, cond);
  for (const [op, arg] of Object.entries(cond)) {
    if (!opMatches(doc, path, op, arg, cond, depth)) return false;
  }
  return true;
}

function eqMatch(doc: unknown, path: string[], v: unknown): boolean {
  if (v instanceof RegExp || v instanceof BSONRegExp) return regexMatch(doc, path, v, undefined);
  const vals = pathValues(doc, path);
  if (v === null) return vals.length === 0 || candidates(doc, path).some((x) => x === null || x === undefined);
  return candidates(doc, path).some((x) => valuesEqual(x, v));
}

function opMatches(doc: unknown, path: string[], op: string, arg: unknown, all: Doc, depth: number): boolean {
  switch (op) {
    case '$eq': return eqMatch(doc, path, arg);
    case '$ne': return !eqMatch(doc, path, arg);
    case '$gt': case '$gte': case '$lt': case '$lte': {
      if (arg === null) return op === '$gte' || op === '$lte' ? eqMatch(doc, path, null) : false;
      return candidates(doc, path).some((x) => {
        if (typeRank(x) !== typeRank(arg) || Array.isArray(x)) return false;
        const c = compareValues(x, arg);
        return op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : c <= 0;
      });
    }
    case '$in': case '$nin': {
      if (!Array.isArray(arg)) throw docErrors.badValue(`${op} needs an array`);
      const hit = arg.some((v) => eqMatch(doc, path, v));
      return op === '$in' ? hit : !hit;
    }
    case '$exists': return (pathValues(doc, path).length > 0) === Boolean(asNumber(arg) ?? arg);
    case '$size': return pathValues(doc, path).some((x) => Array.isArray(x) && x.length === asNumber(arg));
    case '$regex': return regexMatch(doc, path, arg, all.$options);
    case '$options': return true;
    case '$not': return !(arg instanceof RegExp || arg instanceof BSONRegExp ? regexMatch(doc, path, arg, undefined) : fieldMatches(doc, path, arg, depth + 1));
    case '$all':
      if (!Array.isArray(arg)) throw docErrors.badValue('$all needs an array');
      return arg.length > 0 && arg.every((v) => (isPlainObject(v) && '$elemMatch' in v ? opMatches(doc, path, '$elemMatch', v.$elemMatch, v, depth) : eqMatch(doc, path, v)));
    case '$elemMatch': {
      if (!isPlainObject(arg)) throw docErrors.badValue('$elemMatch needs an object');
      return pathValues(doc, path).some((x) => Array.isArray(x) && x.some((el) => (isOps(arg) ? fieldMatches(el, [], arg, depth + 1) : isPlainObject(el) && matches(el, arg, depth + 1))));
    }
    case '$type': {
      const list = (Array.isArray(arg) ? arg : [arg]).map(normaliseType);
      return candidates(doc, path).some((x) => list.some((t) => typeMatches(x, t)));
    }
    case '$where': case '$function': throw docErrors.javascript(op);
  }
  throw docErrors.unknownOperator(op);
}

const TYPE_NUM: Record<number, string> = { 1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 7: 'objectId', 8: 'bool', 9: 'date', 10: 'null', 16: 'int', 18: 'long', 19: 'decimal' };
function normaliseType(t: unknown): string {
  const n = typeof t === 'number' ? t : t instanceof Int32 || t instanceof Double ? t.valueOf() : undefined;
  return n !== undefined ? TYPE_NUM[n] : String(t);
}
function typeMatches(x: unknown, t: string): boolean {
  if (t === 'long') return x instanceof Long;
  if (t === 'decimal') return x instanceof Decimal128;
  const n = x instanceof Long || x instanceof Decimal128 ? undefined : asNumber(x);
  if (t === 'int') return x instanceof Int32 || (n !== undefined && !(x instanceof Double) && Number.isInteger(n) && Math.abs(n) <= 2 ** 31);
  if (t === 'double') return x instanceof Double || (n !== undefined && !Number.isInteger(n));
  const name = ['minKey', 'null', 'number', 'string', 'object', 'array', 'binData', 'objectId', 'bool', 'date', 'timestamp', 'regex', 'maxKey'][typeRank(x)];
  return name === t;
}

/**
 * Whether this process runs tenants' patterns in V8's linear-time engine (node --enable-experimental-regexp-engine,
 * as packages/fleet and the deploy files start the documents service). V8's default engine backtracks: a pattern
 * like ^(a+)+$ takes time exponential in the subject's length, and runs on the thread every tenant shares.
 */
export const LINEAR_REGEXPS = (() => {
  try {
    const linear = 'l'; // a flag only that engine knows (and the linter does not)
    return new RegExp('', linear).flags === linear;
  } catch {
    return false;
  }
})();

/** a compiled pattern and what it is tested against: the subject itself, or lower-cased (see tenantRegExp) */
interface TenantRegExp {
  re: RegExp;
  folded: boolean;
}

/**
 * A tenant's pattern for the stages evaluated here (a find's $regex runs in Postgres, bounded by the statement
 * timeout). V8's linear engine takes neither the i nor the u flag: u is dropped (MongoDB calls it redundant), and
 * i is had by lower-casing pattern and subject, unless the pattern holds an escape whose case means something
 * (\W, \D, \S, \B, \P). Backreferences and lookaround the engine cannot run in linear time (all of them in Node 20's
 * V8; Node 24's runs a lookbehind without captures), and such an i pattern, are refused as invalid.
 */
function tenantRegExp(source: string, flags: string): TenantRegExp {
  const fold = LINEAR_REGEXPS && flags.includes('i');
  if (fold && /\\[A-Z]/.test(source)) throw docErrors.invalidRegex(`/${source}/${flags}: case-insensitive with an upper-case escape cannot run in linear time`);
  try {
    const kept = LINEAR_REGEXPS ? flags.replace(/[^ms]/g, '') + 'l' : flags.replace(/[^imsu]/g, '');
    return { re: new RegExp(fold ? source.toLowerCase() : source, kept), folded: fold };
  } catch (e) {
    throw docErrors.invalidRegex((e as Error).message);
  }
}

function regexMatch(doc: unknown, path: string[], arg: unknown, options: unknown): boolean {
  let t: TenantRegExp;
  if (arg instanceof RegExp) t = tenantRegExp(arg.source, options === undefined ? arg.flags : String(options));
  else if (arg instanceof BSONRegExp) t = tenantRegExp(arg.pattern, String(options ?? arg.options));
  else if (typeof arg === 'string') t = tenantRegExp(arg, String(options ?? ''));
  else throw docErrors.badValue('$regex has to be a string or a regular expression');
  const { re, folded } = t;
  return candidates(doc, path).some((x) => typeof x === 'string' && re.test(folded ? x.toLowerCase() : x));
}
