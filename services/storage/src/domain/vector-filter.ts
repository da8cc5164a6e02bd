// QueryVectors' metadata filter (S3 Vectors' filter language) as a SQL condition on a jsonb column, every value
// bound as a parameter: field operators $eq $ne $gt $gte $lt $lte $in $nin $exists, logical $and and $or, and a
// bare value meaning $eq. Values compare as JSON (5 is not "5"); a field holding an array matches $eq and $in when
// any element does. $ne and $nin need the field to be present, as a SQL comparison with a missing value is not true.
import type { SqlParams } from '@basalt/db';
import { vectorErrors } from '../errors.js';

type Primitive = string | number | boolean;

const RANGE = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;

function primitive(v: unknown, what: string): Primitive {
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw vectorErrors.invalid(`${what} must be a string, number or boolean`);
}

function list(v: unknown, op: string, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0) throw vectorErrors.invalid(`${op} requires a non-empty array for "${field}"`);
  return v.map((x) => JSON.stringify(primitive(x, `${op} values for "${field}"`)));
}

function fieldOp(col: string, field: string, op: string, raw: unknown, p: SqlParams): string {
  const k = p.add(field);
  const has = `jsonb_exists(${col}, ${k})`;
  switch (op) {
    case '$eq':
      return `coalesce(${col} -> ${k} @> ${p.add(JSON.stringify(primitive(raw, `$eq value for "${field}"`)))}::jsonb, false)`;
    case '$ne':
      return `(${has} and not ${col} -> ${k} @> ${p.add(JSON.stringify(primitive(raw, `$ne value for "${field}"`)))}::jsonb)`;
    case '$in':
      return `coalesce(${col} -> ${k} @> any (${p.add(list(raw, op, field))}::jsonb[]), false)`;
    case '$nin':
      return `(${has} and not ${col} -> ${k} @> any (${p.add(list(raw, op, field))}::jsonb[]))`;
    case '$exists':
      if (typeof raw !== 'boolean') throw vectorErrors.invalid(`$exists requires a boolean for "${field}"`);
      return raw ? has : `not ${has}`;
    case '$gt': case '$gte': case '$lt': case '$lte':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) throw vectorErrors.invalid(`${op} requires a number for "${field}"`);
      return `(jsonb_typeof(${col} -> ${k}) = 'number' and (${col} ->> ${k})::numeric ${RANGE[op]} ${p.add(raw)})`;
    default:
      throw vectorErrors.invalid(`Unsupported field operator: ${op}`);
  }
}

function clause(col: string, filter: unknown, p: SqlParams, unfilterable: Set<string>, depth: number): string {
  if (depth > 16) throw vectorErrors.invalid('Filter is nested too deeply');
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw vectorErrors.invalid('Filter must be an object');
  const entries = Object.entries(filter);
  if (entries.length === 0) throw vectorErrors.invalid('Filter must contain at least one clause');
  if ('$and' in filter || '$or' in filter) {
    if (entries.length !== 1) throw vectorErrors.invalid('A logical operator must be the only key of its object');
    const [op, sub] = entries[0];
    if (!Array.isArray(sub) || sub.length === 0) throw vectorErrors.invalid(`${op} requires a non-empty array`);
    return `(${sub.map((s) => clause(col, s, p, unfilterable, depth + 1)).join(op === '$and' ? ' and ' : ' or ')})`;
  }
  const parts = entries.map(([field, value]) => {
    if (field.startsWith('$')) throw vectorErrors.invalid(`Unexpected operator "${field}" at field position`);
    if (unfilterable.has(field)) throw vectorErrors.invalid(`Metadata key "${field}" is non-filterable in this index`);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const ops = Object.entries(value);
      if (ops.length === 0) throw vectorErrors.invalid(`Empty operator object for field "${field}"`);
      return ops.map(([op, raw]) => fieldOp(col, field, op, raw, p)).join(' and ');
    }
    return fieldOp(col, field, '$eq', value, p);
  });
  return `(${parts.join(' and ')})`;
}

/** the filter as a condition on `col`, its values added to `p` */
export function metadataFilter(col: string, filter: unknown, p: SqlParams, unfilterable: Iterable<string> = []): string {
  return clause(col, filter, p, new Set(unfilterable), 0);
}
