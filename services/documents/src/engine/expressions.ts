// Aggregation expressions evaluated in JS: field paths ("$a.b", "$$ROOT"), literals, objects, and a small set
// of operators. Anything else is an error naming the operator.
import { docErrors } from '../errors.js';
import { compareValues, valuesEqual } from './compare.js';
import { asNumber, isPlainObject, type Doc } from './values.js';

export function fieldRef(doc: unknown, ref: string): unknown {
  if (ref === '$$ROOT' || ref === '$$CURRENT') return doc;
  if (ref.startsWith('$$')) throw docErrors.unsupported(`variable ${ref.split('.')[0]}`);
  return walk(doc, ref.slice(1).split('.'));
}

function walk(v: unknown, path: string[]): unknown {
  if (path.length === 0) return v;
  if (Array.isArray(v)) return v.map((x) => walk(x, path)).filter((x) => x !== undefined);
  if (isPlainObject(v)) return walk(v[path[0]], path.slice(1));
  return undefined;
}

const num = (op: string, v: unknown): number => {
  const n = asNumber(v);
  if (n === undefined) throw docErrors.typeMismatch(`${op} only supports numeric types, not ${v === null ? 'null' : typeof v}`);
  return n;
};

const args = (op: string, v: unknown, doc: unknown, n?: number): unknown[] => {
  const list = Array.isArray(v) ? v.map((x) => evalExpr(x, doc)) : [evalExpr(v, doc)];
  if (n !== undefined && list.length !== n) throw docErrors.badValue(`Expression ${op} takes exactly ${n} arguments. ${list.length} were passed in.`);
  return list;
};

const OPS: Record<string, (v: unknown, doc: unknown) => unknown> = {
  $literal: (v) => v,
  $add: (v, d) => { const a = args('$add', v, d); if (a.some((x) => x == null)) return null; const date = a.find((x) => x instanceof Date) as Date | undefined; const sum = a.reduce<number>((s, x) => s + (x instanceof Date ? x.getTime() : num('$add', x)), 0); return date ? new Date(sum) : sum; },
  $subtract: (v, d) => { const [a, b] = args('$subtract', v, d, 2); if (a == null || b == null) return null; if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime(); if (a instanceof Date) return new Date(a.getTime() - num('$subtract', b)); return num('$subtract', a) - num('$subtract', b); },
  $multiply: (v, d) => { const a = args('$multiply', v, d); return a.some((x) => x == null) ? null : a.reduce<number>((s, x) => s * num('$multiply', x), 1); },
  $divide: (v, d) => { const [a, b] = args('$divide', v, d, 2); if (a == null || b == null) return null; if (num('$divide', b) === 0) throw docErrors.badValue("can't $divide by zero"); return num('$divide', a) / num('$divide', b); },
  $mod: (v, d) => { const [a, b] = args('$mod', v, d, 2); return a == null || b == null ? null : num('$mod', a) % num('$mod', b); },
  $abs: (v, d) => { const [a] = args('$abs', v, d, 1); return a == null ? null : Math.abs(num('$abs', a)); },
  $concat: (v, d) => { const a = args('$concat', v, d); if (a.some((x) => x == null)) return null; if (a.some((x) => typeof x !== 'string')) throw docErrors.typeMismatch('$concat only supports strings'); return a.join(''); },
  $toUpper: (v, d) => { const [a] = args('$toUpper', v, d, 1); return a == null ? '' : String(a).toUpperCase(); },
  $toLower: (v, d) => { const [a] = args('$toLower', v, d, 1); return a == null ? '' : String(a).toLowerCase(); },
  $size: (v, d) => { const [a] = args('$size', v, d, 1); if (!Array.isArray(a)) throw docErrors.typeMismatch('The argument to $size must be an array'); return a.length; },
  $ifNull: (v, d) => { const a = args('$ifNull', v, d); return a.find((x) => x !== null && x !== undefined) ?? a[a.length - 1] ?? null; },
  $eq: (v, d) => { const [a, b] = args('$eq', v, d, 2); return valuesEqual(a ?? null, b ?? null); },
  $ne: (v, d) => { const [a, b] = args('$ne', v, d, 2); return !valuesEqual(a ?? null, b ?? null); },
  $gt: (v, d) => { const [a, b] = args('$gt', v, d, 2); return compareValues(a ?? null, b ?? null) > 0; },
  $gte: (v, d) => { const [a, b] = args('$gte', v, d, 2); return compareValues(a ?? null, b ?? null) >= 0; },
  $lt: (v, d) => { const [a, b] = args('$lt', v, d, 2); return compareValues(a ?? null, b ?? null) < 0; },
  $lte: (v, d) => { const [a, b] = args('$lte', v, d, 2); return compareValues(a ?? null, b ?? null) <= 0; },
  $and: (v, d) => args('$and', v, d).every(truthy),
  $or: (v, d) => args('$or', v, d).some(truthy),
  $not: (v, d) => !truthy(args('$not', v, d, 1)[0]),
  $cond: (v, d) => {
    const [c, t, e] = Array.isArray(v) ? v : isPlainObject(v) ? [v.if, v.then, v.else] : [];
    if (c === undefined) throw docErrors.badValue('$cond needs if, then and else');
    return truthy(evalExpr(c, d)) ? evalExpr(t, d) : evalExpr(e, d);
  },
  $arrayElemAt: (v, d) => { const [a, i] = args('$arrayElemAt', v, d, 2); if (!Array.isArray(a)) return null; const n = num('$arrayElemAt', i); return a[n < 0 ? a.length + n : n] ?? null; },
  $year: (v, d) => dateOf('$year', v, d).getUTCFullYear(),
  $month: (v, d) => dateOf('$month', v, d).getUTCMonth() + 1,
  $dayOfMonth: (v, d) => dateOf('$dayOfMonth', v, d).getUTCDate(),
};

function dateOf(op: string, v: unknown, d: unknown): Date {
  const [a] = args(op, v, d, 1);
  if (!(a instanceof Date)) throw docErrors.typeMismatch(`${op} needs a date`);
  return a;
}

const truthy = (v: unknown) => !(v === false || v === null || v === undefined || asNumber(v) === 0);

export function evalExpr(expr: unknown, doc: unknown): unknown {
  if (typeof expr === 'string') return expr.startsWith('$') ? fieldRef(doc, expr) : expr;
  if (Array.isArray(expr)) return expr.map((e) => evalExpr(e, doc));
  if (!isPlainObject(expr)) return expr;
  const keys = Object.keys(expr);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const op = OPS[keys[0]];
    if (keys[0] === '$function' || keys[0] === '$accumulator' || keys[0] === '$where') throw docErrors.javascript(keys[0]);
    if (!op) throw docErrors.unknownOperator(keys[0], 'expression');
    return op(expr[keys[0]], doc);
  }
  const out: Doc = {};
  for (const k of keys) {
    if (k.startsWith('$')) throw docErrors.unknownOperator(k, 'expression');
    const v = evalExpr(expr[k], doc);
    if (v !== undefined) out[k] = v;
  }
  return out;
}
