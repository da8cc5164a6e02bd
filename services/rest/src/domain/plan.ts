// Stage 2 of a request, pure (no I/O): the request description and the schema cache → a plan. It names the
// relation or function, resolves every column and relationship, enforces the limits, and decides how the
// statement runs: one round trip, or a transaction when rows must be checked (or counted) before committing.
import type { CatalogFunction } from '../db/catalog.js';
import type { Execution } from '../db/execute.js';
import type { ApiRequest } from './parse.js';
import { callArgs, pickFunction, resultShape, takesWholeBody, type CallArg, type ResultShape } from './plan-call.js';
import { planRead, type Limits, type ReadNode } from './plan-read.js';
import { checkPut, planMutation, representationSpec, type Mutation } from './plan-write.js';
import { filterCond, type Prefer } from './query.js';
import type { SchemaIndex, Table } from './schema.js';

/** `out`: how the rows become the body: a JSON array, PostgREST's CSV rows (the header comes from the output
 * keys), or a GeoJSON FeatureCollection (PostGIS' ST_AsGeoJSON of each row) */
export type Plan = { exec: Execution; count: Prefer['count']; generation: string; out: BodyFormat } & (
  | { kind: 'read'; table: Table; node: ReadNode; stripNulls: boolean }
  | {
    kind: 'write'; table: Table; mutation: Mutation;
    /** RETURNING the rows (for a representation or a Location) rather than just counting them */
    returnsRows: boolean;
    /** an upsert reports which rows it inserted: all merged answers 200, not 201 */
    merged: boolean;
    representation: ReadNode | null;
    /** the primary key a Location header names (return=headers-only) */
    location: string[] | null;
  }
  | { kind: 'call'; fn: CatalogFunction; args: CallArg[]; shape: ResultShape; node: ReadNode | null });

export type BodyFormat = 'json' | 'csv' | 'geojson';
const bodyFormat = (m: ApiRequest['media']): BodyFormat => (m === 'csv' || m === 'geojson' ? m : 'json');

const estimate = (count: Prefer['count'], maxRows: number): Execution['estimate'] =>
  count === 'planned' ? { exactUpTo: null } : count === 'estimated' ? { exactUpTo: maxRows } : null;

type Common = Pick<Plan, 'count' | 'generation' | 'out'>;

// Plans are object literals spelled out, never `{ ...common, kind, … }`: V8 (Node 20) gives every object that
// optimised code builds by a spread followed by new keys a map of its own, about 10 µs per plan, and leaves
// every later read of the plan megamorphic.
export function planRequest(req: ApiRequest, index: SchemaIndex, schema: string, limits: Limits): Plan {
  const { prefer } = req;
  const count = prefer.count, generation = index.generation, out = bodyFormat(req.media);
  if (req.target.kind === 'rpc') return planCall(req, index, schema, limits, { count, generation, out });
  const table = index.requireTable(schema, req.target.name);
  if (req.method === 'GET' || req.method === 'HEAD') {
    const est = estimate(prefer.count, limits.maxRows);
    const exec: Execution = { readOnly: true, tx: !!est, rollback: false, maxAffected: null, singular: false, estimate: est };
    return { count, generation, out, kind: 'read', table, node: planRead(index, limits, table, req.query.spec), stripNulls: req.stripNulls, exec };
  }
  if (req.method === 'PUT') checkPut(table.pk, req.query, req.body);
  const method = req.method === 'PUT' ? 'POST' : req.method;
  const singular = req.media === 'object';
  const representation = prefer.return === 'representation' || singular;
  const checksCount = prefer.maxAffected !== null && method !== 'POST';
  return {
    count, generation, out,
    kind: 'write',
    table,
    mutation: planMutation(index, limits, table, method, req.body, req.query, prefer),
    returnsRows: representation || prefer.return === 'headers-only',
    merged: method === 'POST' && prefer.resolution === 'merge-duplicates',
    representation: representation ? planRead(index, limits, table, representationSpec(req.query)) : null,
    location: prefer.return === 'headers-only' && table.pk.length ? table.pk : null,
    // Checks that must see the rows before deciding to commit need a real transaction; the rest is one round trip.
    exec: {
      readOnly: false, tx: prefer.tx === 'rollback' || singular || checksCount, rollback: prefer.tx === 'rollback',
      maxAffected: checksCount ? prefer.maxAffected : null, singular, estimate: null,
    },
  };
}

function planCall(req: ApiRequest, index: SchemaIndex, schema: string, limits: Limits, c: Common): Plan {
  const { prefer, query } = req;
  const name = req.target.name;
  const isGet = req.method !== 'POST';
  const overloads = index.fn(schema, name);
  // GET /rpc/f?a=1&b=gt.2: a key naming a parameter of any overload is an argument, any other a root filter.
  const argNames = new Set(overloads.flatMap((f) => f.args.map((a) => a.name)));
  const args: Record<string, unknown> = isGet ? {} : ((req.body as Record<string, unknown> | undefined) ?? {});
  const spec = { ...query.spec, conds: new Map(query.spec.conds) };
  for (const [k, v] of query.rest) {
    if (argNames.has(k)) args[k] = v;
    else spec.conds.set('', [...(spec.conds.get('') ?? []), filterCond([k], v)]);
  }
  const wholeBody = takesWholeBody(overloads[0] ?? ({ args: [] } as unknown as CatalogFunction));
  const fn = pickFunction(index, schema, name, wholeBody ? [] : Object.keys(args));
  const shape = resultShape(index, fn);
  const readOnly = isGet || fn.volatility !== 'v';
  const callArgsList = callArgs(fn, args, req.body);
  const rollback = prefer.tx === 'rollback';
  if (shape.kind !== 'rows') {
    const exec: Execution = { readOnly, tx: rollback, rollback, maxAffected: null, singular: false, estimate: null };
    return { count: c.count, generation: c.generation, out: c.out, kind: 'call', fn, args: callArgsList, shape, node: null, exec };
  }
  const est = estimate(prefer.count, limits.maxRows);
  const exec: Execution = { readOnly, tx: rollback || prefer.maxAffected !== null || !!est, rollback, maxAffected: prefer.maxAffected, singular: false, estimate: est };
  return { count: c.count, generation: c.generation, out: c.out, kind: 'call', fn, args: callArgsList, shape, node: planRead(index, limits, shape.table, spec), exec };
}
