// The statement of a read: the rows (as one JSON text built by Postgres), the page size, and the total when
// Prefer: count asks for it. Also used for RPC results and for the representation of writes.
import type pg from 'pg';
import { queryShape } from '../db/prepared.js';
import { restErrors } from '../errors.js';
import { ReadBuilder, type Limits, type ReadSpec } from './build.js';
import type { SchemaIndex, Table } from './schema.js';
import { ident, int, Sql } from './sql.js';

export interface ReadResult { body: string; n: number; total: number | null }

export interface ReadPlan {
  q: Sql;
  /** SELECT of the page (no aggregation) */
  inner: string;
  /** the same rows without LIMIT/OFFSET, for count=planned */
  unpaged: string;
  countSql: string;
  offset: number;
}

/** Checks that every embed path a filter/order/limit names is selected (PGRST108). */
function checkPaths(b: ReadBuilder, spec: ReadSpec) {
  for (const m of [spec.conds, spec.order, spec.limit, spec.offset]) {
    for (const path of m.keys()) if (!b.usedPaths.has(path)) throw restErrors.notEmbedded(path);
  }
}

export function planRead(index: SchemaIndex, limits: Limits, table: Table, fromSql: string, alias: string, spec: ReadSpec, q = new Sql()): ReadPlan {
  const b = new ReadBuilder(q, index, spec, limits);
  const lv = b.level(table, alias, spec.select, [], 0);
  checkPaths(b, spec);
  if (lv.limit !== null && lv.limit > limits.maxRows) throw restErrors.tooCostly(`A limit above ${limits.maxRows} rows is not allowed`);
  const where = lv.where.length ? ` WHERE ${lv.where.join(' AND ')}` : '';
  const joins = lv.joins.join(' ');
  const order = lv.orderBy.length ? ` ORDER BY ${lv.orderBy.join(', ')}` : '';
  const proj = lv.projections.join(', ');
  const unpaged = `SELECT ${proj} FROM ${fromSql} ${joins}${where}`;
  return {
    q,
    inner: `${unpaged}${order} LIMIT ${int(lv.limit ?? limits.maxRows)}${lv.offset ? ` OFFSET ${int(lv.offset)}` : ''}`,
    unpaged,
    countSql: `SELECT count(*) FROM ${fromSql} ${lv.whereUsesJoins ? joins : ''}${where}`,
    offset: lv.offset ?? 0,
  };
}

/** `scalar`: the rows are one column whose values form the array (set-returning scalar functions). */
export function aggregate(p: ReadPlan, exact: boolean, scalar: string | null = null, stripNulls = false): string {
  const agg = scalar ? `json_agg(_r.${ident(scalar)})` : stripNulls ? 'json_agg(json_strip_nulls(row_to_json(_r)))' : 'json_agg(_r)';
  return `SELECT coalesce(${agg}, '[]')::text AS body, count(*)::int AS n, ${exact ? `(${p.countSql})` : 'NULL'}::bigint AS total FROM (${p.inner}) _r`;
}

export async function runRead(client: pg.ClientBase, p: ReadPlan, count: string | null, maxRows: number, scalar: string | null = null): Promise<ReadResult> {
  const { rows } = await queryShape<{ body: string; n: number; total: string | null }>(client, aggregate(p, count === 'exact', scalar), p.q.params);
  let total = rows[0].total === null ? null : Number(rows[0].total);
  if (count === 'planned' || count === 'estimated') {
    const planned = await plannedCount(client, p);
    total = count === 'estimated' && planned <= maxRows ? await exactCount(client, p) : planned;
  }
  return { body: rows[0].body, n: rows[0].n, total };
}

/** The result row of aggregate() as the one-round-trip path returns it (text fields). */
export function readResult(row: Record<string, string | null>): ReadResult {
  return { body: row.body ?? '[]', n: Number(row.n), total: row.total === null ? null : Number(row.total) };
}

async function plannedCount(client: pg.ClientBase, p: ReadPlan): Promise<number> {
  const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${p.unpaged}`, p.q.params);
  const plan = rows[0]['QUERY PLAN'];
  return Number((typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan['Plan Rows']);
}

async function exactCount(client: pg.ClientBase, p: ReadPlan): Promise<number> {
  const { rows } = await client.query(`SELECT count(*)::bigint AS c FROM (${p.unpaged}) _c`, p.q.params);
  return Number(rows[0].c);
}
