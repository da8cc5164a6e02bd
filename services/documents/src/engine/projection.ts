// Find projections: inclusion ({a: 1, "b.c": 1}) or exclusion ({a: 0}), `_id` included unless excluded.
// Dotted paths apply inside arrays of objects, as in MongoDB. Applied in JS to the page being returned.
import { docErrors } from '../errors.js';
import { parsePath } from './sql.js';
import { asNumber, isPlainObject, type Doc } from './values.js';

export interface Projection { include: boolean; paths: string[][]; id: boolean }

export function parseProjection(spec: unknown): Projection | null {
  if (spec === undefined || spec === null) return null;
  if (!isPlainObject(spec)) throw docErrors.typeMismatch('projection must be an object');
  let include: boolean | undefined;
  let id = true;
  const paths: string[][] = [];
  for (const [k, v] of Object.entries(spec)) {
    if (k.startsWith('$')) throw docErrors.unknownOperator(k, 'projection');
    const n = typeof v === 'boolean' ? Number(v) : asNumber(v);
    if (n === undefined) {
      const op = isPlainObject(v) ? Object.keys(v)[0] : typeof v;
      throw docErrors.unsupported(`projection value ${op} for "${k}" (use 1/true to include or 0/false to exclude)`);
    }
    if (k === '_id') {
      id = n !== 0;
      continue;
    }
    const inc = n !== 0;
    if (include !== undefined && include !== inc) throw docErrors.badValue(`Cannot do ${include ? 'exclusion' : 'inclusion'} on field ${k} in ${include ? 'inclusion' : 'exclusion'} projection`);
    include = inc;
    paths.push(parsePath(k));
  }
  // {_id: 1} alone is an inclusion of _id only; {_id: 0} alone excludes just _id
  return { include: include ?? ('_id' in spec && id), paths, id };
}

export function project(doc: Doc, p: Projection | null): Doc {
  if (!p) return doc;
  if (!p.include) {
    const out = excludeAll(doc, p.paths) as Doc;
    if (!p.id) delete out._id;
    return out;
  }
  const out: Doc = {};
  if (p.id && '_id' in doc) out._id = doc._id;
  const picked = includeAll(doc, p.paths) as Doc;
  for (const k of Object.keys(doc)) if (k in picked && k !== '_id') out[k] = picked[k];
  return out;
}

function includeAll(v: unknown, paths: string[][]): unknown {
  if (Array.isArray(v)) return v.filter((x) => isPlainObject(x) || Array.isArray(x)).map((x) => includeAll(x, paths));
  if (!isPlainObject(v)) return undefined;
  const out: Doc = {};
  for (const [k, x] of Object.entries(v)) {
    const here = paths.filter((p) => p[0] === k);
    if (here.length === 0) continue;
    if (here.some((p) => p.length === 1)) out[k] = x;
    else {
      const sub = includeAll(x, here.map((p) => p.slice(1)));
      if (sub !== undefined) out[k] = sub;
    }
  }
  return out;
}

function excludeAll(v: unknown, paths: string[][]): unknown {
  if (Array.isArray(v)) return v.map((x) => (isPlainObject(x) || Array.isArray(x) ? excludeAll(x, paths) : x));
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const [k, x] of Object.entries(v)) {
    const here = paths.filter((p) => p[0] === k);
    if (here.some((p) => p.length === 1)) continue;
    out[k] = here.length ? excludeAll(x, here.map((p) => p.slice(1))) : x;
  }
  return out;
}
