// MongoDB query filters → one SQL boolean expression over the storage form. Array-aware paths use jsonpath in
// lax mode, which visits array elements the way MongoDB's dotted paths do and never matches across types (so
// {$gt: 5} ignores strings, as MongoDB's type brackets do). Paths covered by an index that holds no arrays
// ("not multikey") compare `doc #> '{path}'` directly, which is exact there and lets the planner use the index.
import { BSONRegExp, Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import type { SqlParams } from '@basalt/db';
import { docErrors } from '../errors.js';
import { jsonPath, jsonPathString, parsePath, pathExpr } from './sql.js';
import { isPlainObject, jsonbKeyOrder, MAX_DEPTH, toStorage, type Doc } from './values.js';

export interface FilterOptions {
  /** paths (joined with '.') known to hold no arrays anywhere along them, with an index on them */
  scalarPaths?: ReadonlySet<string>;
}

const COMPARE: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };
const FIELD_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$type', '$regex', '$options', '$not', '$all', '$elemMatch', '$size']);
const JS_OPS = new Set(['$where', '$function', '$accumulator']);
/** $elemMatch aliases numbered per statement (by its parameters), so one filter shape is always the same text */
const aliases = new WeakMap<SqlParams, number>();

export function compileFilter(filter: unknown, p: SqlParams, opts: FilterOptions = {}, root = 'doc', depth = 0): string {
  if (depth > MAX_DEPTH) throw docErrors.tooDeep(MAX_DEPTH);
  if (filter === undefined || filter === null) return 'true';
  if (!isPlainObject(filter)) throw docErrors.typeMismatch('a filter must be an object');
  const parts: string[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key.startsWith('$')) parts.push(logical(key, value, p, opts, root, depth));
    else parts.push(field(parsePath(key), value, p, opts, root, depth));
  }
  return parts.length === 0 ? 'true' : parts.length === 1 ? parts[0] : `(${parts.join(' and ')})`;
}

function logical(op: string, value: unknown, p: SqlParams, opts: FilterOptions, root: string, depth: number): string {
  if (JS_OPS.has(op)) throw docErrors.javascript(op);
  if (op === '$comment') return 'true';
  if (op !== '$and' && op !== '$or' && op !== '$nor') throw docErrors.unknownOperator(op);
  if (!Array.isArray(value) || value.length === 0) throw docErrors.badValue(`${op} must be a nonempty array`);
  const subs = value.map((f) => {
    if (!isPlainObject(f)) throw docErrors.badValue(`${op} argument's entries must be objects`);
    return compileFilter(f, p, opts, root, depth + 1);
  });
  if (op === '$and') return `(${subs.join(' and ')})`;
  if (op === '$or') return `(${subs.join(' or ')})`;
  return `not coalesce(${subs.join(' or ')}, false)`;
}

const isOperatorObject = (v: unknown): v is Doc => isPlainObject(v) && Object.keys(v).length > 0 && Object.keys(v)[0].startsWith('$');

function field(path: string[], value: unknown, p: SqlParams, opts: FilterOptions, root: string, depth: number): string {
  if (!isOperatorObject(value)) return eq(path, value, p, opts, root);
  const parts: string[] = [];
  for (const [op, arg] of Object.entries(value)) {
    if (!op.startsWith('$')) throw docErrors.badValue(`unknown operator ${op}: an operator object may not mix operators and fields`);
    if (JS_OPS.has(op)) throw docErrors.javascript(op);
    if (!FIELD_OPS.has(op)) throw docErrors.unknownOperator(op);
    if (op === '$options') {
      if (!('$regex' in value)) throw docErrors.badValue('$options needs a $regex');
      continue;
    }
    parts.push(fieldOp(path, op, arg, value, p, opts, root, depth));
  }
  return parts.length === 1 ? parts[0] : `(${parts.join(' and ')})`;
}

function fieldOp(path: string[], op: string, arg: unknown, all: Doc, p: SqlParams, opts: FilterOptions, root: string, depth: number): string {
  switch (op) {
    case '$eq': return eq(path, arg, p, opts, root);
    case '$ne': return `not coalesce(${eq(path, arg, p, opts, root)}, false)`;
    case '$gt': case '$gte': case '$lt': case '$lte': return compare(path, op, arg, p, opts, root);
    case '$in': return inList(path, arg, p, opts, root, '$in');
    case '$nin': return `not coalesce(${inList(path, arg, p, opts, root, '$nin')}, false)`;
    case '$exists': return truthy(arg) ? exists(path, p, root) : `not ${exists(path, p, root)}`;
    case '$type': return typeIs(path, arg, p, root);
    case '$regex': return regex(path, arg, all.$options, p, root);
    case '$size': return size(path, arg, root);
    case '$all': return allOf(path, arg, p, opts, root, depth);
    case '$elemMatch': return elemMatch(path, arg, p, opts, root, depth);
    case '$not': {
      if (arg instanceof RegExp || arg instanceof BSONRegExp) return `not coalesce(${regex(path, arg, undefined, p, root)}, false)`;
      if (!isOperatorObject(arg)) throw docErrors.badValue('$not needs a regex or a document of operators');
      return `not coalesce(${field(path, arg, p, opts, root, depth + 1)}, false)`;
    }
  }
  throw docErrors.unknownOperator(op);
}

const truthy = (v: unknown) => !(v === false || v === 0 || v === null || v === undefined || (v instanceof Int32 && v.value === 0));

type Kind = 'number' | 'string' | 'bool' | 'date' | 'oid' | 'null' | 'regex' | 'compound';
function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof Int32 || v instanceof Double || v instanceof Long || v instanceof Decimal128) return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Date) return 'date';
  if (v instanceof ObjectId) return 'oid';
  if (v instanceof RegExp || v instanceof BSONRegExp) return 'regex';
  return 'compound';
}

/** the scalar compared inside jsonpath: dates by their ms, ObjectIds by their hex */
function scalarTarget(path: string[], v: unknown): { jp: string; value: string } {
  const k = kindOf(v);
  if (k === 'date') return { jp: `${jsonPath(path)}."$date"`, value: String((v as Date).getTime()) };
  if (k === 'oid') return { jp: `${jsonPath(path)}."$oid"`, value: JSON.stringify((v as ObjectId).toHexString()) };
  return { jp: jsonPath(path), value: toStorage(v) };
}

const jsonpathExists = (root: string, p: SqlParams, jp: string, vars?: string) =>
  vars ? `jsonb_path_exists(${root}, ${p.add(jp)}::jsonpath, ${p.json(vars)})` : `jsonb_path_exists(${root}, ${p.add(jp)}::jsonpath)`;

const isScalarPath = (path: string[], opts: FilterOptions, root: string) =>
  root === 'doc' && ((path.length === 1 && path[0] === '_id') || (opts.scalarPaths?.has(path.join('.')) ?? false));

function eq(path: string[], v: unknown, p: SqlParams, opts: FilterOptions, root: string): string {
  const k = kindOf(v);
  if (k === 'regex') return regex(path, v, undefined, p, root);
  const e = pathExpr(root, path);
  if (k === 'null') {
    if (isScalarPath(path, opts, root)) return `(${e} is null or ${e} = 'null'::jsonb)`;
    return `(not ${exists(path, p, root)} or ${jsonpathExists(root, p, `${jsonPath(path)} ? (@ == null)`)})`;
  }
  if (isScalarPath(path, opts, root)) return `${e} = ${p.json(toStorage(v))}`;
  if (k === 'compound') {
    // whole-value equality, or an element of the array at the path (objects and arrays cannot go into jsonpath)
    const lit = p.json(toStorage(v));
    const whole = root === 'doc' ? `(${e} = ${lit}${fieldOrder(path, v, p)})` : `${e} = ${lit}`;
    return `(${whole} or (jsonb_typeof(${e}) = 'array' and ${e} @> jsonb_build_array(${lit}) and exists (select 1 from jsonb_array_elements(${e}) x where x = ${lit})))`;
  }
  const t = scalarTarget(path, v);
  return jsonpathExists(root, p, `${t.jp} ? (@ == $v)`, `{"v":${t.value}}`);
}

/**
 * jsonb equality ignores field order, MongoDB's does not: an embedded document matches only when the stored one
 * has its fields in the literal's order, which `types` records for every object jsonb would reorder.
 */
function fieldOrder(path: string[], v: unknown, p: SqlParams, sub: string[] = []): string {
  if (Array.isArray(v)) return v.map((x, i) => fieldOrder(path, x, p, [...sub, String(i)])).join('');
  if (!isPlainObject(v)) return '';
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  let out = keys.map((k) => fieldOrder(path, v[k], p, [...sub, k])).join('');
  if (keys.length < 2) return out;
  const at = JSON.stringify([...path, ...sub]);
  const reordered = keys.some((k, i) => i > 0 && jsonbKeyOrder(keys[i - 1], k) > 0);
  out += reordered
    ? ` and exists (select 1 from jsonb_array_elements(coalesce(types, '[]')) t where t = ${p.json(JSON.stringify([[...path, ...sub], 'order', keys]))})`
    : ` and not exists (select 1 from jsonb_array_elements(coalesce(types, '[]')) t where t -> 0 = ${p.json(at)} and t ->> 1 = 'order')`;
  return out;
}

function compare(path: string[], op: string, v: unknown, p: SqlParams, opts: FilterOptions, root: string): string {
  const k = kindOf(v);
  if (k === 'regex' || k === 'compound') throw docErrors.badValue(`${op} with an object, array or regex operand is not supported`);
  if (k === 'null') return op === '$gte' || op === '$lte' ? eq(path, null, p, opts, root) : 'false';
  if (isScalarPath(path, opts, root)) {
    const e = pathExpr(root, path);
    const bracket = k === 'number' ? `jsonb_typeof(${e}) = 'number'` : k === 'string' ? `jsonb_typeof(${e}) = 'string'`
      : k === 'bool' ? `jsonb_typeof(${e}) = 'boolean'` : `${e} ? ${k === 'date' ? "'$date'" : "'$oid'"}`;
    return `(${e} ${COMPARE[op]} ${p.json(toStorage(v))} and ${bracket})`;
  }
  const t = scalarTarget(path, v);
  return jsonpathExists(root, p, `${t.jp} ? (@ ${COMPARE[op]} $v)`, `{"v":${t.value}}`);
}

function inList(path: string[], arg: unknown, p: SqlParams, opts: FilterOptions, root: string, op: string): string {
  if (!Array.isArray(arg)) throw docErrors.badValue(`${op} needs an array`);
  if (arg.length === 0) return 'false';
  const plain = arg.every((v) => { const k = kindOf(v); return k !== 'null' && k !== 'regex' && k !== 'compound'; });
  if (plain && isScalarPath(path, opts, root)) {
    // one array parameter keeps the statement's shape fixed and lets the planner use the index (= any)
    return `${pathExpr(root, path)} = any(${p.add(arg.map((v) => toStorage(v)))}::jsonb[])`;
  }
  return `(${arg.map((v) => eq(path, v, p, opts, root)).join(' or ')})`;
}

function exists(path: string[], p: SqlParams, root: string): string {
  if (root === 'doc' && path.length === 1) return `(doc ? ${p.add(path[0])})`;
  return jsonpathExists(root, p, jsonPath(path));
}

const TYPE_ALIASES: Record<string, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 7: 'objectId', 8: 'bool', 9: 'date', 10: 'null', 16: 'int', 18: 'long', 19: 'decimal',
};

function typeIs(path: string[], arg: unknown, p: SqlParams, root: string): string {
  const list = Array.isArray(arg) ? arg : [arg];
  if (list.length === 0) throw docErrors.badValue('$type needs at least one type');
  const jp = jsonPath(path);
  const one = (t: unknown): string => {
    const n = typeof t === 'number' ? t : t instanceof Int32 || t instanceof Double ? t.valueOf() : undefined;
    const name = n !== undefined ? TYPE_ALIASES[n] : typeof t === 'string' ? t : undefined;
    switch (name) {
      case 'number': return jsonpathExists(root, p, `${jp} ? (@.type() == "number")`);
      case 'int': case 'long': case 'decimal': case 'double': {
        // Int64 and Decimal128 are known by the typed-number list of the row; a stored number is an int when it is
        // integral and in int32 range (what the BSON serialisers of JS clients send such a value as), else a double
        if (root !== 'doc') throw docErrors.unsupported(`$type "${name}" inside $elemMatch`);
        const typed = (t: string) => `coalesce(types @> ${p.json(JSON.stringify([[path, t]]))}, false)`;
        if (name === 'long' || name === 'decimal') return typed(name);
        if (name === 'int') {
          const integral = jsonpathExists(root, p, `${jp} ? (@.type() == "number" && @ == @.floor() && @ >= -2147483648 && @ <= 2147483647)`);
          return `(${integral} and not ${typed('long')} and not ${typed('decimal')})`;
        }
        return `(${jsonpathExists(root, p, `${jp} ? (@.type() == "number" && @ != @.floor())`)} and not ${typed('decimal')})`;
      }
      case 'string': return jsonpathExists(root, p, `${jp} ? (@.type() == "string")`);
      case 'bool': return jsonpathExists(root, p, `${jp} ? (@.type() == "boolean")`);
      case 'null': return jsonpathExists(root, p, `${jp} ? (@.type() == "null")`);
      case 'date': return jsonpathExists(root, p, `${jp}."$date"`);
      case 'objectId': return jsonpathExists(root, p, `${jp}."$oid"`);
      case 'binData': return jsonpathExists(root, p, `${jp}."$binary"`);
      case 'array': return `(jsonb_typeof(${pathExpr(root, path)}) = 'array')`;
      case 'object': return jsonpathExists(root, p, `${jp} ? (@.type() == "object" && !exists(@."$oid") && !exists(@."$date") && !exists(@."$binary") && !exists(@."$numberDecimal") && !exists(@."$numberDouble"))`);
    }
    throw docErrors.badValue(`unknown or unsupported $type: ${String(t)}`);
  };
  const parts = list.map(one);
  return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
}

function regex(path: string[], arg: unknown, options: unknown, p: SqlParams, root: string): string {
  let source: string;
  let flags = '';
  if (arg instanceof RegExp) [source, flags] = [arg.source, arg.flags];
  else if (arg instanceof BSONRegExp) [source, flags] = [arg.pattern, arg.options];
  else if (typeof arg === 'string') source = arg;
  else throw docErrors.badValue('$regex has to be a string or a regular expression');
  if (options !== undefined) {
    if (typeof options !== 'string') throw docErrors.badValue('$options has to be a string');
    flags = options;
  }
  const bad = [...flags].find((f) => !'imsxgu'.includes(f));
  if (bad) throw docErrors.badValue(`invalid regex flag: ${bad}`);
  const jflags = [...new Set([...flags].filter((f) => 'imsx'.includes(f)))].join('');
  // the pattern is a jsonpath string literal inside a parameter, never SQL text
  const jp = `${jsonPath(path)} ? (@ like_regex ${jsonPathString(source)}${jflags ? ` flag "${jflags}"` : ''})`;
  return jsonpathExists(root, p, jp);
}

function size(path: string[], arg: unknown, root: string): string {
  const n = typeof arg === 'number' ? arg : arg instanceof Int32 || arg instanceof Double || arg instanceof Long ? Number(arg.valueOf()) : NaN;
  if (!Number.isInteger(n) || n < 0) throw docErrors.badValue('$size needs a nonnegative integer');
  const e = pathExpr(root, path);
  return `(jsonb_typeof(${e}) = 'array' and jsonb_array_length(${e}) = ${n})`;
}

function allOf(path: string[], arg: unknown, p: SqlParams, opts: FilterOptions, root: string, depth: number): string {
  if (!Array.isArray(arg)) throw docErrors.badValue('$all needs an array');
  if (arg.length === 0) return 'false';
  return `(${arg.map((v) => (isPlainObject(v) && '$elemMatch' in v ? elemMatch(path, v.$elemMatch, p, opts, root, depth) : eq(path, v, p, opts, root))).join(' and ')})`;
}

function elemMatch(path: string[], arg: unknown, p: SqlParams, opts: FilterOptions, root: string, depth: number): string {
  if (!isPlainObject(arg)) throw docErrors.badValue('$elemMatch needs an object');
  const e = pathExpr(root, path);
  const n = (aliases.get(p) ?? 0) + 1;
  aliases.set(p, n);
  const el = `em${n}.v`;
  // {$gte: 80, $lt: 85} applies to the element itself; {score: {...}} to fields of object elements
  const cond = isOperatorObject(arg) ? field([], arg, p, {}, el, depth + 1) : compileFilter(arg, p, {}, el, depth + 1);
  return `(jsonb_typeof(${e}) = 'array' and exists (select 1 from jsonb_array_elements(${e}) ${el.split('.')[0]}(v) where ${cond}))`;
}

