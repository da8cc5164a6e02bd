// mem0's filter language compiled to a parameterised SQL condition over memory.memories (alias m):
//   {field: value} | {field: {op: value}} | {"AND"|"OR"|"NOT": [filter, …]}, several keys in one object AND-ed.
// Fields: user_id agent_id app_id run_id id memory hash created_at updated_at timestamp expiration_date
// categories keywords metadata (an object of keys) and metadata.<key>. Operators: eq ne gt gte lt lte in nin
// contains icontains and "*" (any value). Anything else is a 400 that names it.
import type { SqlParams } from '@basalt/db';
import { memErrors } from '../errors.js';

const OPS = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'icontains', '*']);
const TEXT_FIELDS = new Set(['user_id', 'agent_id', 'app_id', 'run_id', 'memory', 'hash', 'memory_type']);
const DATE_FIELDS: Record<string, string> = { created_at: 'm.created_at', updated_at: 'm.updated_at', timestamp: 'm.created_at', expiration_date: 'm.expiration_date' };
const LOGIC = new Set(['AND', 'OR', 'NOT']);
const MAX_DEPTH = 8;

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function opsOf(field: string, value: unknown): [string, unknown][] {
  if (value === '*') return [['*', true]];
  if (!isPlain(value)) return [['eq', value]];
  const entries = Object.entries(value);
  if (entries.length === 0) throw memErrors.badFilter(`Filter on "${field}" is empty`);
  for (const [op] of entries) if (!OPS.has(op)) throw memErrors.badFilter(`Unknown filter operator "${op}" on field "${field}" (use eq, ne, gt, gte, lt, lte, in, nin, contains, icontains or *)`);
  return entries;
}

function list(field: string, op: string, v: unknown): unknown[] {
  if (!Array.isArray(v) || v.length === 0) throw memErrors.badFilter(`"${op}" on "${field}" needs a non-empty list`);
  return v;
}

function scalar(field: string, op: string, v: unknown): string | number | boolean {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw memErrors.badFilter(`"${op}" on "${field}" needs a string, number or boolean`);
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function textCond(col: string, field: string, op: string, v: unknown, p: SqlParams): string {
  switch (op) {
    case '*': return `${col} is not null`;
    case 'eq': return v === null ? `${col} is null` : `${col} = ${p.add(String(scalar(field, op, v)))}`;
    case 'ne': return v === null ? `${col} is not null` : `${col} is distinct from ${p.add(String(scalar(field, op, v)))}`;
    case 'in': return `${col} = any(${p.add(list(field, op, v).map(String))}::text[])`;
    case 'nin': return `not (${col} = any(${p.add(list(field, op, v).map(String))}::text[]))`;
    case 'contains': return `${col} like ${p.add(`%${likeEscape(String(scalar(field, op, v)))}%`)}`;
    case 'icontains': return `${col} ilike ${p.add(`%${likeEscape(String(scalar(field, op, v)))}%`)}`;
    default: return `${col} ${{ gt: '>', gte: '>=', lt: '<', lte: '<=' }[op]} ${p.add(String(scalar(field, op, v)))}`;
  }
}

function dateValue(field: string, v: unknown): string {
  const d = typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' ? new Date(v) : null;
  if (!d || Number.isNaN(d.getTime())) throw memErrors.badFilter(`"${field}" needs a date (ISO 8601 or unix seconds)`);
  return d.toISOString();
}

function dateCond(col: string, field: string, op: string, v: unknown, p: SqlParams): string {
  const cast = field === 'expiration_date' ? 'date' : 'timestamptz';
  switch (op) {
    case '*': return `${col} is not null`;
    case 'in': return `${col} = any(${p.add(list(field, op, v).map((x) => dateValue(field, x)))}::${cast}[])`;
    case 'nin': return `not (${col} = any(${p.add(list(field, op, v).map((x) => dateValue(field, x)))}::${cast}[]))`;
    case 'contains': case 'icontains': throw memErrors.badFilter(`"${op}" does not apply to the date field "${field}"`);
    default: return `${col} ${{ eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }[op]} ${p.add(dateValue(field, v))}::${cast}`;
  }
}

function categoriesCond(op: string, v: unknown, p: SqlParams): string {
  const arr = (x: unknown) => (Array.isArray(x) ? x : [x]).map((c) => String(scalar('categories', op, c)));
  switch (op) {
    case '*': return 'cardinality(m.categories) > 0';
    case 'eq': case 'contains': return `m.categories @> ${p.add(arr(v))}::text[]`;
    case 'ne': return `not (m.categories @> ${p.add(arr(v))}::text[])`;
    case 'in': return `m.categories && ${p.add(list('categories', op, v).map(String))}::text[]`;
    case 'nin': return `not (m.categories && ${p.add(list('categories', op, v).map(String))}::text[])`;
    case 'icontains': return `exists (select 1 from unnest(m.categories) c where c ilike ${p.add(`%${likeEscape(String(scalar('categories', op, v)))}%`)})`;
    default: throw memErrors.badFilter(`"${op}" does not apply to "categories"`);
  }
}

function metadataCond(key: string, op: string, v: unknown, p: SqlParams): string {
  const k = p.add(key);
  const field = `metadata.${key}`;
  switch (op) {
    case '*': return `m.metadata ? ${k}`;
    case 'eq': return `m.metadata -> ${k} = ${p.add(JSON.stringify(v))}::jsonb`;
    case 'ne': return `(m.metadata -> ${k}) is distinct from ${p.add(JSON.stringify(v))}::jsonb`;
    case 'in': return `m.metadata -> ${k} = any(${p.add(list(field, op, v).map((x) => JSON.stringify(x)))}::jsonb[])`;
    case 'nin': return `not coalesce(m.metadata -> ${k} = any(${p.add(list(field, op, v).map((x) => JSON.stringify(x)))}::jsonb[]), false)`;
    case 'contains': return `(case when jsonb_typeof(m.metadata -> ${k}) = 'array' then m.metadata -> ${k} @> ${p.add(JSON.stringify([v]))}::jsonb else m.metadata ->> ${k} like ${p.add(`%${likeEscape(String(scalar(field, op, v)))}%`)} end)`;
    case 'icontains': return `m.metadata ->> ${k} ilike ${p.add(`%${likeEscape(String(scalar(field, op, v)))}%`)}`;
    default: {
      const sym = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
      const val = scalar(field, op, v);
      if (typeof val === 'number') return `(jsonb_typeof(m.metadata -> ${k}) = 'number' and (m.metadata ->> ${k})::numeric ${sym} ${p.add(val)}::numeric)`;
      return `m.metadata ->> ${k} ${sym} ${p.add(String(val))}`;
    }
  }
}

function fieldCond(field: string, value: unknown, p: SqlParams, cfg: string): string {
  if (field === 'metadata') {
    if (!isPlain(value)) throw memErrors.badFilter('"metadata" needs an object of keys');
    return and(Object.entries(value).map(([k, v]) => and(opsOf(`metadata.${k}`, v).map(([op, x]) => metadataCond(k, op, x, p)))));
  }
  if (field.startsWith('metadata.') && field.length > 9) return and(opsOf(field, value).map(([op, x]) => metadataCond(field.slice(9), op, x, p)));
  const ops = opsOf(field, value);
  if (TEXT_FIELDS.has(field)) return and(ops.map(([op, x]) => textCond(`m.${field}`, field, op, x, p)));
  if (field === 'id' || field === 'memory_id' || field === 'memory_ids') {
    return and(ops.map(([op, x]) => textCond('m.id::text', field, op, x, p)));
  }
  if (DATE_FIELDS[field]) return and(ops.map(([op, x]) => dateCond(DATE_FIELDS[field], field, op, x, p)));
  if (field === 'categories') return and(ops.map(([op, x]) => categoriesCond(op, x, p)));
  if (field === 'keywords') {
    return and(ops.map(([op, x]) => {
      if (op !== 'eq' && op !== 'contains' && op !== 'icontains') throw memErrors.badFilter(`"${op}" does not apply to "keywords"`);
      return `m.tsv @@ plainto_tsquery(${p.add(cfg)}::regconfig, ${p.add(String(scalar(field, op, x)))})`;
    }));
  }
  throw memErrors.badFilter(`Unknown filter field "${field}"`);
}

const and = (parts: string[]) => (parts.length === 0 ? 'true' : parts.length === 1 ? parts[0] : `(${parts.join(' and ')})`);
const or = (parts: string[]) => (parts.length === 0 ? 'false' : parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`);

/** Compiles a filter tree to a SQL condition on alias m; throws a 400 naming any unknown field or operator. */
export function compileFilters(filters: unknown, p: SqlParams, cfg: string, depth = 0): string {
  if (filters === undefined || filters === null) return 'true';
  if (depth > MAX_DEPTH) throw memErrors.badFilter(`Filters nest deeper than ${MAX_DEPTH} levels`);
  if (!isPlain(filters)) throw memErrors.badFilter('filters must be an object');
  const parts: string[] = [];
  for (const [key, value] of Object.entries(filters)) {
    const upper = key.toUpperCase();
    if (LOGIC.has(upper)) {
      const items = Array.isArray(value) ? value : isPlain(value) ? [value] : null;
      if (!items || items.length === 0) throw memErrors.badFilter(`"${key}" needs a non-empty list of filters`);
      const compiled = items.map((f) => compileFilters(f, p, cfg, depth + 1));
      parts.push(upper === 'AND' ? and(compiled) : upper === 'OR' ? or(compiled) : `not coalesce(${and(compiled)}, false)`);
    } else {
      parts.push(fieldCond(key, value, p, cfg));
    }
  }
  return and(parts);
}

/** the scope ids a filter pins with plain equality at its top level (what entity-scoped writes need) */
export function scopeOf(filters: unknown): Partial<Record<'user_id' | 'agent_id' | 'app_id' | 'run_id', string>> {
  const out: Partial<Record<'user_id' | 'agent_id' | 'app_id' | 'run_id', string>> = {};
  const visit = (f: unknown) => {
    if (!isPlain(f)) return;
    for (const [k, v] of Object.entries(f)) {
      if (k.toUpperCase() === 'AND' && Array.isArray(v)) v.forEach(visit);
      else if ((k === 'user_id' || k === 'agent_id' || k === 'app_id' || k === 'run_id') && typeof v === 'string' && v !== '*') out[k] = v;
    }
  };
  visit(filters);
  return out;
}
