// Stage 2 for writes: INSERT / upsert / UPDATE / DELETE of one table, checked against the schema cache: the
// columns the body names, the conflict target of an upsert, the rows grouped by the keys they carry.
import { restErrors } from '../errors.js';
import { ReadPlanner, type Limits, type PlanCond } from './plan-read.js';
import type { ParsedQuery, Prefer, ReadSpec } from './query.js';
import type { SchemaIndex, Table } from './schema.js';

export interface InsertGroup { columns: string[]; rows: Record<string, unknown>[] }

export type Mutation =
  /** `groups` empty: nothing to insert, still an INSERT (into `emptyColumn`) so the statement keeps its shape */
  | { kind: 'insert'; groups: InsertGroup[]; emptyColumn: string | null; conflict: { keys: string[]; update: string[] } | null }
  /** `columns` empty: nothing to set, no row changes */
  | { kind: 'update'; columns: string[]; row: Record<string, unknown>; where: PlanCond[] }
  | { kind: 'delete'; where: PlanCond[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkColumns(t: Table, cols: string[]) {
  for (const c of cols) if (!t.columns.has(c)) throw restErrors.noColumn(c, t.name);
}

/** Every key of the rows, in first-seen order: one pass, not an array of every row's keys (a 10 MB body holds millions). */
function keysOf(rows: Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const r of rows) for (const k in r) if (Object.hasOwn(r, k)) keys.add(k);
  return [...keys];
}

function planInsert(t: Table, body: unknown, q: ParsedQuery, prefer: Prefer): Mutation {
  const rows = Array.isArray(body) ? body : [body];
  if (!rows.every(isObject)) throw restErrors.badBody('All object keys must match');
  const union = q.columns ?? keysOf(rows);
  checkColumns(t, union);
  if (!rows.length) {
    const col = [...t.columns.values()].find((c) => !c.generated);
    if (!col) throw restErrors.badBody('Nothing to insert');
    return { kind: 'insert', groups: [], emptyColumn: col.name, conflict: null };
  }
  let conflict: { keys: string[]; update: string[] } | null = null;
  if (prefer.resolution) {
    const keys = q.onConflict ?? t.pk;
    if (!keys.length) throw restErrors.upsertNoKey();
    checkColumns(t, keys);
    // merge-duplicates sets every inserted column, the conflict key included (PostgREST's DO UPDATE SET), so a body
    // of only the key columns still rewrites the row and returns it.
    conflict = { keys, update: prefer.resolution === 'ignore-duplicates' ? [] : union };
  }
  // Without missing=default every row inserts every column (an absent key is NULL): one group, with no JSON text of
  // each row's keys to group by, which cost 0.8 s for the million rows a 10 MB body holds.
  if (prefer.missing !== 'default') {
    if (!union.length && rows.length !== 1) throw restErrors.badBody('Rows without any column can only be inserted one at a time');
    return { kind: 'insert', groups: [{ columns: union, rows }], emptyColumn: null, conflict };
  }
  // missing=default: rows are grouped by the keys they carry, so an absent key takes the column default.
  const groups = new Map<string, InsertGroup>();
  for (const r of rows) {
    const columns = union.filter((c) => c in r);
    const k = JSON.stringify(columns);
    if (!groups.has(k)) groups.set(k, { columns, rows: [] });
    groups.get(k)!.rows.push(r);
  }
  for (const g of groups.values()) {
    if (!g.columns.length && g.rows.length !== 1) throw restErrors.badBody('Rows without any column can only be inserted one at a time');
  }
  return { kind: 'insert', groups: [...groups.values()], emptyColumn: null, conflict };
}

/**
 * The mutation a write means; `method` is POST for PUT (an upsert of the row its key filters name). A PATCH or DELETE
 * without a filter is refused unless the project allows it, as Supabase refuses it (pg-safeupdate, loaded for every
 * API request): `.delete()` with its filter forgotten empties the table otherwise, RLS permitting.
 */
export function planMutation(index: SchemaIndex, limits: Limits, t: Table, method: 'POST' | 'PATCH' | 'DELETE', body: unknown, q: ParsedQuery, prefer: Prefer): Mutation {
  if (method === 'POST') return planInsert(t, body, q, prefer);
  // Only root filters narrow a write; embedded resources do not exist here.
  const p = new ReadPlanner(index, q.spec, limits);
  const conds = q.spec.conds.get('') ?? [];
  const where = () => conds.map((c) => p.cond(t, c, new Map(), () => undefined));
  if (method === 'DELETE') {
    if (!conds.length && !limits.unfilteredWrites) throw restErrors.requiresWhere('DELETE');
    return { kind: 'delete', where: where() };
  }
  if (!isObject(body)) throw restErrors.badBody('Empty or invalid JSON body for update');
  const columns = Object.keys(body).filter((c) => !q.columns || q.columns.includes(c));
  checkColumns(t, columns);
  // an update that sets nothing changes no row, and runs no UPDATE to refuse
  if (columns.length && !conds.length && !limits.unfilteredWrites) throw restErrors.requiresWhere('UPDATE');
  return { kind: 'update', columns, row: body, where: where() };
}

/** PUT /t?pk=eq.v upserts exactly the row its primary-key filters name (PGRST105/114/115 otherwise). */
export function checkPut(pk: string[], q: ParsedQuery, body: unknown) {
  if (q.spec.limit.size || q.spec.offset.size) throw restErrors.putPaging();
  const conds = q.spec.conds.get('') ?? [];
  const eqs = new Map(conds.map((c) => (c.kind === 'filter' && c.op.op === 'eq' && !c.op.negate && !c.field.path.length ? [c.field.name, c.op.value] : ['', ''])));
  if (!pk.length || conds.length !== pk.length || !pk.every((k) => eqs.has(k))) {
    throw restErrors.putFilters();
  }
  const row = Array.isArray(body) ? (body.length === 1 ? body[0] : null) : body;
  if (!row || typeof row !== 'object' || !pk.every((k) => String((row as Record<string, unknown>)[k]) === eqs.get(k))) {
    throw restErrors.putMismatch();
  }
}

/** The representation of a write reads the written rows: no filters or paging of its own, its order kept. */
export const representationSpec = (q: ParsedQuery): ReadSpec => ({ ...q.spec, conds: new Map(), limit: new Map(), offset: new Map() });
