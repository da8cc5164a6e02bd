// INSERT / upsert / UPDATE / DELETE as one data-modifying CTE whose rows feed the count, the representation
// (through the same select/embed builder as reads) and the Location header, all in one statement.
import { restErrors } from '../errors.js';
import { ReadBuilder, type Limits, type ReadSpec } from './build.js';
import { planRead } from './read.js';
import type { Prefer } from './request.js';
import type { SchemaIndex, Table } from './schema.js';
import { ident, qualified, Sql } from './sql.js';

export interface WriteInput {
  method: 'POST' | 'PATCH' | 'DELETE';
  table: Table;
  body: unknown;
  columns: string[] | null;
  onConflict: string[] | null;
  prefer: Prefer;
  spec: ReadSpec;
  /** representation wanted (return=representation or a singular Accept) */
  representation: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkColumns(t: Table, cols: string[]) {
  for (const c of cols) if (!t.columns.has(c)) throw restErrors.noColumn(c, t.name);
}

function insertSql(q: Sql, w: WriteInput, alias: string): string {
  const t = w.table;
  const rows = Array.isArray(w.body) ? w.body : [w.body];
  if (!rows.every(isObject)) throw restErrors.badBody('All object keys must match');
  const union = w.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  checkColumns(t, union);
  const target = `${qualified(t.schema, t.name)} AS ${ident(alias)}`;
  const conflict = () => {
    if (!w.prefer.resolution) return '';
    const keys = w.onConflict ?? t.pk;
    if (!keys.length) throw restErrors.upsertNoKey();
    checkColumns(t, keys);
    const on = `ON CONFLICT (${keys.map(ident).join(', ')})`;
    const set = union.filter((c) => !keys.includes(c));
    if (w.prefer.resolution === 'ignore-duplicates' || !set.length) return ` ${on} DO NOTHING`;
    return ` ${on} DO UPDATE SET ${set.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ')}`;
  };
  // missing=default: rows are grouped by the keys they carry, so an absent key takes the column default.
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const cols = w.prefer.missing === 'default' ? union.filter((c) => c in r) : union;
    const k = JSON.stringify(cols);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  if (rows.length === 0) {
    // Nothing to insert, but still an INSERT so RETURNING and the rest of the statement keep their shape.
    const col = [...t.columns.values()].find((c) => !c.generated);
    if (!col) throw restErrors.badBody('Nothing to insert');
    return `INSERT INTO ${target} (${ident(col.name)}) SELECT NULL WHERE FALSE`;
  }
  const parts = [...groups].map(([k, rs]) => {
    const cols = JSON.parse(k) as string[];
    if (!cols.length) {
      if (rs.length !== 1) throw restErrors.badBody('Rows without any column can only be inserted one at a time');
      return `INSERT INTO ${target} DEFAULT VALUES${conflict()}`;
    }
    const list = cols.map(ident).join(', ');
    return `INSERT INTO ${target} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${qualified(t.schema, t.name)}, ${q.p(JSON.stringify(rs))}::json)${conflict()}`;
  });
  return parts.length === 1 ? parts[0] : parts.join(' ;; ');
}

/** The statement; `ret` is what the CTE returns per row. Result columns: n, body, loc. */
export function writeStatement(index: SchemaIndex, limits: Limits, w: WriteInput): { sql: string; params: unknown[] } {
  const q = new Sql();
  const t = w.table;
  const alias = q.alias('m');
  // An upsert also reports whether each row was inserted (xmax = 0) or merged: all merged answers 200, not 201.
  const merged = w.method === 'POST' && w.prefer.resolution === 'merge-duplicates';
  const flag = merged ? `, (${ident(alias)}.xmax = 0) AS pgrst_inserted` : '';
  const ret = w.representation || w.prefer.return === 'headers-only' ? `RETURNING ${ident(alias)}.*${flag}` : `RETURNING 1${flag}`;
  const where = () => {
    const b = new ReadBuilder(q, index, w.spec, limits);
    const conds = (w.spec.conds.get('') ?? []).map((c) => b.cond(t, alias, c, new Map(), () => undefined));
    return conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
  };
  let ctes: string[];
  if (w.method === 'POST') {
    ctes = insertSql(q, w, alias).split(' ;; ').map((s) => `${s} ${ret}`);
  } else if (w.method === 'PATCH') {
    if (!isObject(w.body)) throw restErrors.badBody('Empty or invalid JSON body for update');
    const cols = Object.keys(w.body).filter((c) => !w.columns || w.columns.includes(c));
    checkColumns(t, cols);
    const wh = where();
    ctes = cols.length
      ? [`UPDATE ${qualified(t.schema, t.name)} AS ${ident(alias)} SET ${cols.map((c) => `${ident(c)} = _b.${ident(c)}`).join(', ')} FROM json_populate_record(NULL::${qualified(t.schema, t.name)}, ${q.p(JSON.stringify(w.body))}::json) AS _b${wh} ${ret}`]
      : [`SELECT ${ident(alias)}.* FROM ${qualified(t.schema, t.name)} AS ${ident(alias)} WHERE FALSE`];
  } else {
    ctes = [`DELETE FROM ${qualified(t.schema, t.name)} AS ${ident(alias)}${where()} ${ret}`];
  }
  const names = ctes.map((_, i) => `pgrst_m${i}`);
  const all = names.map((n) => `SELECT * FROM ${n}`).join(' UNION ALL ');
  const withSql = `WITH ${ctes.map((c, i) => `${names[i]} AS (${c})`).join(', ')}, pgrst_m AS (${all})`;
  let body = 'NULL';
  if (w.representation) {
    const r = q.alias('t');
    const plan = planRead(index, limits, t, `pgrst_m AS ${ident(r)}`, r, { ...w.spec, conds: new Map(), order: w.spec.order, limit: new Map(), offset: new Map() }, q);
    body = `(SELECT coalesce(json_agg(_r), '[]')::text FROM (${plan.inner}) _r)`;
  }
  const loc = w.prefer.return === 'headers-only' && t.pk.length
    ? `(SELECT row_to_json(_l)::text FROM (SELECT ${t.pk.map(ident).join(', ')} FROM pgrst_m LIMIT 1) _l)`
    : 'NULL';
  const inserted = merged ? '(SELECT count(*) FILTER (WHERE pgrst_inserted) FROM pgrst_m)::int' : 'NULL::int';
  return { sql: `${withSql} SELECT (SELECT count(*) FROM pgrst_m)::int AS n, ${body} AS body, ${loc} AS loc, ${inserted} AS inserted`, params: q.params };
}
