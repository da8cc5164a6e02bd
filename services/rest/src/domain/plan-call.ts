// Stage 2 for /rpc/<fn>: the overload the argument names pick, each argument as a typed value, and the shape of
// the result (nothing, one scalar, or rows to read like a table with select, filters, order and paging).
import type { CatalogFunction } from '../db/catalog.js';
import { restErrors } from '../errors.js';
import type { SchemaIndex, Table } from './schema.js';

const inputs = (f: CatalogFunction) => f.args.filter((a) => a.mode === 'i' || a.mode === 'b' || a.mode === 'v');
const outputs = (f: CatalogFunction) => f.args.filter((a) => a.mode === 'o' || a.mode === 'b' || a.mode === 't');

/** A function taking one unnamed json/jsonb argument receives the whole body. */
export const takesWholeBody = (f: CatalogFunction) => {
  const ins = inputs(f);
  return ins.length === 1 && ins[0].name === '' && (ins[0].type === 'json' || ins[0].type === 'jsonb');
};

export function pickFunction(index: SchemaIndex, schema: string, name: string, given: string[]): CatalogFunction {
  const fns = index.fn(schema, name);
  const fits = fns.filter((f) => {
    if (takesWholeBody(f)) return true;
    const ins = inputs(f);
    return given.every((g) => ins.some((a) => a.name === g)) && ins.every((a) => a.hasDefault || given.includes(a.name));
  });
  if (!fits.length) throw restErrors.noFunction(schema, name, given);
  if (fits.length > 1) {
    // Prefer the exact-arity match; anything else is PostgREST's 300 PGRST203.
    const exact = fits.filter((f) => inputs(f).length === given.length && !takesWholeBody(f));
    if (exact.length === 1) return exact[0];
    throw restErrors.ambiguousFunction(fits.map((f) => `${schema}.${name}(${inputs(f).map((a) => `${a.name} => ${a.type}`).join(', ')})`).join(', '));
  }
  return fits[0];
}

/** Converts a JSON argument into the text form Postgres parses for the argument's type. */
function argValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'json' || type === 'jsonb') return JSON.stringify(v);
  if (Array.isArray(v)) return type.endsWith('[]') ? v.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : x)) : JSON.stringify(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** format_type output is catalog text; still, only pass it through when it looks like a type name. */
const castable = (t: string) => (/^[\w". [\](),-]+$/.test(t) ? t : 'text');

/** `name` null: the whole body as the one unnamed json argument */
export interface CallArg { name: string | null; value: unknown; type: string }

export function callArgs(f: CatalogFunction, args: Record<string, unknown>, rawBody: unknown): CallArg[] {
  if (takesWholeBody(f)) return [{ name: null, value: JSON.stringify(rawBody ?? {}), type: inputs(f)[0].type }];
  return inputs(f).filter((a) => a.name in args).map((a) => ({ name: a.name, value: argValue(args[a.name], a.type), type: castable(a.type) }));
}

export type ResultShape =
  | { kind: 'void' }
  | { kind: 'scalar' }
  /** `scalarColumn`: a set of scalars, read as one column of that name */
  | { kind: 'rows'; table: Table; setof: boolean; scalarColumn: string | null };

export function resultShape(index: SchemaIndex, f: CatalogFunction): ResultShape {
  if (f.returnType === 'void') return { kind: 'void' };
  if (f.returnRelSchema && f.returnRelName) {
    const t = index.table(f.returnRelSchema, f.returnRelName);
    if (t) return { kind: 'rows', table: t, setof: f.returnsSet, scalarColumn: null };
  }
  const outs = outputs(f);
  if (f.returnsComposite && outs.length) {
    const columns = new Map(outs.map((a) => [a.name, { name: a.name, type: a.type, udt: a.type, nullable: true, hasDefault: false, generated: false }]));
    return { kind: 'rows', table: { schema: f.schema, name: f.name, kind: 'f', comment: null, columns, pk: [], uniques: [], fks: [] }, setof: f.returnsSet, scalarColumn: null };
  }
  if (!f.returnsSet) return { kind: 'scalar' };
  const columns = new Map([[f.name, { name: f.name, type: f.returnType, udt: f.returnType, nullable: true, hasDefault: false, generated: false }]]);
  return { kind: 'rows', table: { schema: f.schema, name: f.name, kind: 'f', comment: null, columns, pk: [], uniques: [], fks: [] }, setof: true, scalarColumn: f.name };
}
