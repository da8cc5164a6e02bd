// Aggregation pipelines. A leading $match/$sort/$skip/$limit runs as SQL (using indexes), and a $group or $count
// right after it is computed by Postgres too when its expressions are plain field paths; every other stage
// runs in JS over the rows that prefix returned, bounded by maxScan.
import { SqlParams } from '@basalt/db';
import { docErrors } from '../errors.js';
import { compareValues, valueKey, ValueSet } from './compare.js';
import type { Collection } from './collection.js';
import { evalExpr, fieldRef } from './expressions.js';
import { matches } from './match.js';
import { parseProjection, project } from './projection.js';
import { parsePath, pathExpr } from './sql.js';
import { parseSort, sortDocs, sortSql, type SortKey } from './sort.js';
import { structuredCloneDoc, setPath, unsetPath, getPath } from './update.js';
import { asNumber, fromStorage, isPlainObject, type Doc } from './values.js';

export interface AggregateContext {
  /** documents of another collection of the same project matching a filter (rules applied by the caller) */
  lookup: (from: string, filter: Doc) => Promise<Doc[]>;
  /** most documents a JS stage may hold */
  maxScan: number;
}

const STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$sort', '$limit', '$skip', '$group', '$count', '$unwind', '$lookup', '$facet']);

export function checkPipeline(pipeline: unknown): Doc[] {
  if (!Array.isArray(pipeline)) throw docErrors.typeMismatch('pipeline must be an array');
  return pipeline.map((s) => {
    if (!isPlainObject(s) || Object.keys(s).length !== 1) throw docErrors.badValue('A pipeline stage specification object must contain exactly one field.');
    const name = Object.keys(s)[0];
    if (!STAGES.has(name)) throw docErrors.unknownOperator(name, 'pipeline stage');
    return s;
  });
}

export async function aggregate(coll: Collection, pipeline: Doc[], ctx: AggregateContext): Promise<Doc[]> {
  const stages = checkPipeline(pipeline);
  let i = 0;
  const filters: Doc[] = [];
  let sort: SortKey[] = [];
  let skip = 0;
  let limit = 0;
  while (i < stages.length && '$match' in stages[i] && !sort.length && !skip && !limit) filters.push(stages[i++].$match as Doc);
  if (i < stages.length && '$sort' in stages[i]) sort = parseSort(stages[i++].$sort);
  if (i < stages.length && '$skip' in stages[i]) skip = count('$skip', stages[i++].$skip);
  if (i < stages.length && '$limit' in stages[i]) limit = count('$limit', stages[i++].$limit, 1);
  const filter = filters.length === 0 ? {} : filters.length === 1 ? filters[0] : { $and: filters };
  for (const s of stages.slice(i)) validateStage(s);

  const next = stages[i];
  if (next && '$count' in next) {
    const n = await coll.count(filter, skip, limit);
    return runStages(n ? [{ [countName(next.$count)]: n }] : [], stages.slice(i + 1), ctx);
  }
  if (next && '$group' in next) {
    const grouped = await sqlGroup(coll, next.$group as Doc, filter, sort, skip, limit);
    if (grouped) return runStages(grouped, stages.slice(i + 1), ctx);
  }
  const take = limit && limit <= ctx.maxScan ? limit : ctx.maxScan + 1;
  const docs = await coll.find({ filter, sort, skip, limit: take });
  if (docs.length > ctx.maxScan) throw docErrors.badValue(`this pipeline would hold more than ${ctx.maxScan} documents in memory; add a $match or $limit first`);
  return runStages(docs, stages.slice(i), ctx);
}

const count = (stage: string, v: unknown, min = 0) => {
  const n = asNumber(v);
  if (n === undefined || !Number.isInteger(n) || n < min) throw docErrors.badValue(`${stage} needs ${min ? 'a positive' : 'a nonnegative'} integer`);
  return n;
};

function countName(v: unknown): string {
  if (typeof v !== 'string' || !v || v.startsWith('$') || v.includes('.')) throw docErrors.badValue('$count needs a nonempty field name without $ or .');
  return v;
}

function validateStage(s: Doc): void {
  const [name, spec] = Object.entries(s)[0];
  if (name === '$lookup' && isPlainObject(spec) && ('pipeline' in spec || 'let' in spec)) throw docErrors.unsupported('$lookup with a pipeline');
  if (name === '$match' && isPlainObject(spec) && ('$expr' in spec || '$where' in spec || '$text' in spec)) {
    if ('$where' in spec) throw docErrors.javascript('$where');
    throw docErrors.unsupported(`${'$expr' in spec ? '$expr' : '$text'} in $match`);
  }
  if (name === '$facet') {
    if (!isPlainObject(spec)) throw docErrors.badValue('$facet needs an object');
    for (const sub of Object.values(spec)) for (const st of checkPipeline(sub)) {
      if ('$facet' in st) throw docErrors.badValue('$facet is not allowed inside $facet');
      validateStage(st);
    }
  }
}

/** $group computed by Postgres: keys and accumulator arguments must be field paths or constants. */
async function sqlGroup(coll: Collection, spec: Doc, filter: Doc, sort: SortKey[], skip: number, limit: number): Promise<Doc[] | null> {
  if (!isPlainObject(spec) || !('_id' in spec)) throw docErrors.badValue("a group specification must include an _id");
  if (!coll.exists) return [];
  const p = new SqlParams();
  const field = (v: unknown): string | null => (typeof v === 'string' && /^\$[^$]/.test(v) ? pathExpr('doc', parsePath(v.slice(1))) : null);
  const constant = (v: unknown) => v === null || typeof v === 'number' || typeof v === 'string' && !v.startsWith('$') || typeof v === 'boolean';
  let key: string;
  const id = spec._id;
  if (field(id)) key = `coalesce(${field(id)}, 'null'::jsonb)`;
  else if (constant(id)) key = p.json(JSON.stringify(id));
  else if (isPlainObject(id) && Object.values(id).every((v) => field(v))) key = `jsonb_build_object(${Object.entries(id).map(([k, v]) => `${p.add(k)}::text, coalesce(${field(v)}, 'null'::jsonb)`).join(', ')})`;
  else return null;
  const cols: string[] = [];
  const names: string[] = [];
  for (const [name, acc] of Object.entries(spec)) {
    if (name === '_id') continue;
    if (!isPlainObject(acc) || Object.keys(acc).length !== 1) throw docErrors.badValue(`The field '${name}' must be an accumulator object`);
    const [op, arg] = Object.entries(acc)[0];
    const f = field(arg);
    const num = (e: string) => `case when jsonb_typeof(${e}) = 'number' then (${e})::numeric end`;
    let sql: string | null = null;
    if (op === '$sum' && f) sql = `coalesce(sum(${num(f)}), 0)::float8`;
    else if (op === '$sum' && asNumber(arg) !== undefined) sql = `(count(*) * ${p.add(asNumber(arg))}::float8)`;
    else if (op === '$count' && isPlainObject(arg) && !Object.keys(arg).length) sql = 'count(*)::float8';
    else if (op === '$avg' && f) sql = `avg(${num(f)})::float8`;
    else if ((op === '$min' || op === '$max') && f) sql = `(array_agg(${f} order by ${f} ${op === '$min' ? 'asc' : 'desc'}) filter (where ${f} <> 'null'::jsonb))[1]`;
    if (!sql) return null;
    cols.push(sql);
    names.push(name);
  }
  const inner = `select doc from ${coll.table} where ${coll.where(filter, p)}${sortSql(sort)}${limit ? ` limit ${limit}` : ''}${skip ? ` offset ${skip}` : ''}`;
  const sql = `select ${key} as k${cols.map((c, n) => `, ${c} as a${n}`).join('')} from (${inner}) s group by 1`;
  const { rows } = await coll.c.query(sql, p.values);
  return rows.map((r) => {
    const out: Doc = { _id: fromStorage(r.k) };
    names.forEach((n, j) => (out[n] = typeof r[`a${j}`] === 'object' && r[`a${j}`] !== null ? fromStorage(r[`a${j}`]) : r[`a${j}`]));
    return out;
  });
}

async function runStages(docs: Doc[], stages: Doc[], ctx: AggregateContext): Promise<Doc[]> {
  let cur = docs;
  for (const s of stages) {
    const [name, spec] = Object.entries(s)[0];
    cur = await runStage(cur, name, spec, ctx);
    if (cur.length > ctx.maxScan) throw docErrors.badValue(`this pipeline would hold more than ${ctx.maxScan} documents in memory`);
  }
  return cur;
}

async function runStage(docs: Doc[], name: string, spec: any, ctx: AggregateContext): Promise<Doc[]> {
  switch (name) {
    case '$match': return docs.filter((d) => matches(d, spec));
    case '$sort': return sortDocs(docs, parseSort(spec));
    case '$skip': return docs.slice(count('$skip', spec));
    case '$limit': return docs.slice(0, count('$limit', spec, 1));
    case '$count': return docs.length ? [{ [countName(spec)]: docs.length }] : [];
    case '$project': return docs.map((d) => projectStage(d, spec));
    case '$addFields': case '$set': {
      if (!isPlainObject(spec)) throw docErrors.badValue(`${name} needs an object`);
      return docs.map((d) => {
        const out = structuredCloneDoc(d);
        for (const [k, e] of Object.entries(spec)) setPath(out, parsePath(k), evalExpr(e, d));
        return out;
      });
    }
    case '$unset': {
      const paths = (Array.isArray(spec) ? spec : [spec]).map((p) => {
        if (typeof p !== 'string') throw docErrors.badValue('$unset needs a field name or an array of them');
        return parsePath(p);
      });
      return docs.map((d) => {
        const out = structuredCloneDoc(d);
        for (const p of paths) unsetPath(out, p);
        return out;
      });
    }
    case '$unwind': return unwind(docs, spec, ctx.maxScan);
    case '$group': return group(docs, spec);
    case '$lookup': return lookup(docs, spec, ctx);
    case '$facet': {
      const out: Doc = {};
      for (const [k, sub] of Object.entries(spec as Doc)) out[k] = await runStages(docs, checkPipeline(sub), ctx);
      return [out];
    }
  }
  throw docErrors.unknownOperator(name, 'pipeline stage');
}

function projectStage(d: Doc, spec: unknown): Doc {
  if (!isPlainObject(spec)) throw docErrors.badValue('$project needs an object');
  const flags = Object.entries(spec).filter(([, v]) => typeof v === 'boolean' || asNumber(v) !== undefined);
  const computed = Object.entries(spec).filter(([, v]) => !(typeof v === 'boolean' || asNumber(v) !== undefined));
  const excluding = computed.length === 0 && (flags.some(([k, v]) => k !== '_id' && !Number(v)) || flags.every(([, v]) => !Number(v)));
  if (excluding) return project(d, parseProjection(spec));
  const inclusion = Object.fromEntries(flags.filter(([k]) => k !== '_id' || Number(flags.find(([x]) => x === '_id')![1])));
  if (flags.some(([k, v]) => k !== '_id' && !Number(v))) throw docErrors.badValue('Invalid $project: a projection cannot mix exclusion with inclusion or computed fields');
  const out = project(d, parseProjection({ ...inclusion, _id: spec._id === undefined ? 1 : Number(asNumber(spec._id) ?? (spec._id === false ? 0 : 1)) }));
  for (const [k, e] of computed) {
    if (k === '_id') out._id = evalExpr(e, d);
    else {
      const v = evalExpr(e, d);
      if (v !== undefined) setPath(out, parsePath(k), v);
    }
  }
  return out;
}

/**
 * `d` with the value at `path` replaced: the documents along the path are copied and everything else is shared
 * (a stage that changes a document copies it first), so unwinding n elements costs n small copies rather than n
 * copies of the whole document.
 */
function withValueAt(d: Doc, path: string[], value: unknown): Doc {
  const top: Doc = { ...d };
  let parent = top;
  for (const key of path.slice(0, -1)) {
    const next = parent[key];
    if (!isPlainObject(next)) {
      // through an array or a missing field: the general path
      const whole = structuredCloneDoc(d);
      setPath(whole, path, value);
      return whole;
    }
    parent = parent[key] = { ...next };
  }
  parent[path[path.length - 1]!] = value;
  return top;
}

function unwind(docs: Doc[], spec: unknown, maxScan: number): Doc[] {
  const o = typeof spec === 'string' ? { path: spec } : isPlainObject(spec) ? spec : null;
  if (!o || typeof o.path !== 'string' || !o.path.startsWith('$')) throw docErrors.badValue('$unwind needs a path starting with $');
  const path = parsePath(o.path.slice(1));
  const keep = o.preserveNullAndEmptyArrays === true;
  const idx = typeof o.includeArrayIndex === 'string' ? parsePath(o.includeArrayIndex) : null;
  const out: Doc[] = [];
  const add = (c: Doc, i: number | null) => {
    // refused as the output grows past the bound, not after it has all been built
    if (out.length >= maxScan) throw docErrors.badValue(`this pipeline would hold more than ${maxScan} documents in memory`);
    out.push(idx ? withValueAt(c, idx, i) : c);
  };
  for (const d of docs) {
    const { found, value } = getPath(d, path);
    if (Array.isArray(value) && value.length) value.forEach((el, i) => add(withValueAt(d, path, el), i));
    else if (found && value !== null && !Array.isArray(value)) add(d, null);
    else if (keep) {
      const c = structuredCloneDoc(d);
      if (Array.isArray(value)) unsetPath(c, path);
      add(c, null);
    }
  }
  return out;
}

const ACCUMULATORS = new Set(['$sum', '$avg', '$min', '$max', '$count', '$push', '$addToSet', '$first', '$last']);

function group(docs: Doc[], spec: unknown): Doc[] {
  if (!isPlainObject(spec) || !('_id' in spec)) throw docErrors.badValue('a group specification must include an _id');
  const accs = Object.entries(spec).filter(([k]) => k !== '_id').map(([k, a]) => {
    if (!isPlainObject(a) || Object.keys(a).length !== 1) throw docErrors.badValue(`The field '${k}' must be an accumulator object`);
    const [op, arg] = Object.entries(a)[0];
    if (!ACCUMULATORS.has(op)) throw docErrors.unknownOperator(op, 'group accumulator');
    return { k, op, arg };
  });
  const groups: { id: unknown; docs: Doc[] }[] = [];
  const byKey = new Map<string, { id: unknown; docs: Doc[] }>();
  for (const d of docs) {
    const id = evalExpr(spec._id, d) ?? null;
    const key = JSON.stringify(keyOf(id));
    let g = byKey.get(key);
    if (!g) {
      g = { id, docs: [] };
      byKey.set(key, g);
      groups.push(g);
    }
    g.docs.push(d);
  }
  return groups.map((g) => {
    const out: Doc = { _id: g.id };
    for (const { k, op, arg } of accs) out[k] = accumulate(op, arg, g.docs);
    return out;
  });
}

const keyOf = (v: unknown): unknown => (v instanceof Date ? { d: v.getTime() } : asNumber(v) !== undefined ? asNumber(v) : v && typeof v === 'object' && 'toHexString' in v ? String(v) : v);

function accumulate(op: string, arg: unknown, docs: Doc[]): unknown {
  const vals = () => docs.map((d) => evalExpr(arg, d));
  switch (op) {
    case '$sum': return vals().reduce<number>((s, v) => s + (asNumber(v) ?? 0), 0);
    case '$count': return docs.length;
    case '$avg': {
      const nums = vals().map(asNumber).filter((n): n is number => n !== undefined);
      return nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
    }
    case '$min': case '$max': {
      const vs = vals().filter((v) => v !== null && v !== undefined);
      if (!vs.length) return null;
      return vs.reduce((a, b) => ((op === '$min' ? compareValues(b, a) < 0 : compareValues(b, a) > 0) ? b : a));
    }
    case '$push': return vals().filter((v) => v !== undefined);
    case '$addToSet': {
      const out = new ValueSet();
      for (const v of vals()) if (v !== undefined) out.add(v);
      return out.values();
    }
    case '$first': return docs.length ? evalExpr(arg, docs[0]) ?? null : null;
    case '$last': return docs.length ? evalExpr(arg, docs[docs.length - 1]) ?? null : null;
  }
  throw docErrors.unknownOperator(op, 'group accumulator');
}

async function lookup(docs: Doc[], spec: unknown, ctx: AggregateContext): Promise<Doc[]> {
  if (!isPlainObject(spec)) throw docErrors.badValue('$lookup needs an object');
  const { from, localField, foreignField, as } = spec;
  for (const [k, v] of Object.entries({ from, localField, foreignField, as })) if (typeof v !== 'string' || !v) throw docErrors.badValue(`$lookup needs a string ${k}`);
  const locals = docs.flatMap((d) => {
    const v = fieldRef(d, `$${localField}`);
    return Array.isArray(v) ? v : [v ?? null];
  });
  const uniq = new ValueSet();
  for (const v of locals) uniq.add(v);
  const foreign = locals.length ? await ctx.lookup(from as string, { [foreignField as string]: { $in: uniq.values() } }) : [];
  // the foreign documents by each value they hold, so each local document finds its own in as many lookups as it
  // has values, not by comparing them with every foreign document's
  const byValue = new Map<string, number[]>();
  foreign.forEach((f, i) => {
    const fv = fieldRef(f, `$${foreignField}`);
    for (const key of new Set((Array.isArray(fv) ? fv : [fv ?? null]).map(valueKey))) {
      const at = byValue.get(key);
      if (at) at.push(i);
      else byValue.set(key, [i]);
    }
  });
  return docs.map((d) => {
    const lv = fieldRef(d, `$${localField}`);
    const found = new Set<number>();
    for (const m of Array.isArray(lv) ? lv : [lv ?? null]) for (const i of byValue.get(valueKey(m)) ?? []) found.add(i);
    const hits = [...found].sort((a, b) => a - b).map((i) => foreign[i]!); // in the foreign collection's order
    const out = structuredCloneDoc(d);
    setPath(out, parsePath(as as string), hits);
    return out;
  });
}
