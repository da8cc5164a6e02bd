// SQL of a planned write: INSERT / upsert / UPDATE / DELETE as data-modifying CTEs whose rows feed the count, the
// representation (through the same read SQL as reads), the Location header and the inserted count.
import type { Mutation } from './plan-write.js';
import type { Plan } from './plan.js';
import { readSql, whereSql } from './sql-read.js';
import { CSV_ROWS, GEOJSON_ROWS, ident, qualified, type Sql } from './sql-text.js';

type WritePlan = Extract<Plan, { kind: 'write' }>;

function mutationSql(q: Sql, m: Mutation, target: string, alias: string, ret: string): string[] {
  const into = `${target} AS ${ident(alias)}`;
  const where = (conds: string[]) => (conds.length ? ` WHERE ${conds.join(' AND ')}` : '');
  if (m.kind === 'delete') return [`DELETE FROM ${into}${where(whereSql(q, alias, m.where))} ${ret}`];
  if (m.kind === 'update') {
    if (!m.columns.length) return [`SELECT ${ident(alias)}.* FROM ${into} WHERE FALSE`];
    const set = m.columns.map((c) => `${ident(c)} = _b.${ident(c)}`).join(', ');
    const row = q.p(JSON.stringify(m.row));
    return [`UPDATE ${into} SET ${set} FROM json_populate_record(NULL::${target}, ${row}::json) AS _b${where(whereSql(q, alias, m.where))} ${ret}`];
  }
  // Nothing to insert, but still an INSERT so RETURNING and the rest of the statement keep their shape.
  if (!m.groups.length) return [`INSERT INTO ${into} (${ident(m.emptyColumn!)}) SELECT NULL WHERE FALSE ${ret}`];
  const c = m.conflict;
  const conflict = !c ? '' : ` ON CONFLICT (${c.keys.map(ident).join(', ')}) ${c.update.length
    ? `DO UPDATE SET ${c.update.map((k) => `${ident(k)} = EXCLUDED.${ident(k)}`).join(', ')}` : 'DO NOTHING'}`;
  return m.groups.map((g) => {
    if (!g.columns.length) return `INSERT INTO ${into} DEFAULT VALUES${conflict} ${ret}`;
    const list = g.columns.map(ident).join(', ');
    return `INSERT INTO ${into} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${target}, ${q.p(JSON.stringify(g.rows))}::json)${conflict} ${ret}`;
  });
}

/** One row: n (rows written), body (the representation), loc (the first row's key), inserted (upserts). */
export function writeSql(q: Sql, w: WritePlan): string {
  const t = w.table;
  const alias = q.alias('m');
  // An upsert also reports whether each row was inserted (xmax = 0) or merged.
  const flag = w.merged ? `, (${ident(alias)}.xmax = 0) AS pgrst_inserted` : '';
  const ret = w.returnsRows ? `RETURNING ${ident(alias)}.*${flag}` : `RETURNING 1${flag}`;
  const ctes = mutationSql(q, w.mutation, qualified(t.schema, t.name), alias, ret);
  const names = ctes.map((_, i) => `pgrst_m${i}`);
  const all = names.map((n) => `SELECT * FROM ${n}`).join(' UNION ALL ');
  const withSql = `WITH ${ctes.map((c, i) => `${names[i]} AS (${c})`).join(', ')}, pgrst_m AS (${all})`;
  let body = 'NULL';
  if (w.representation) {
    const r = q.alias('t');
    body = `(SELECT ${w.out === 'csv' ? CSV_ROWS : w.out === 'geojson' ? GEOJSON_ROWS : `coalesce(json_agg(_r), '[]')::text`} FROM (${readSql(q, w.representation, `pgrst_m AS ${ident(r)}`, r).inner}) _r)`;
  }
  const loc = w.location ? `(SELECT row_to_json(_l)::text FROM (SELECT ${w.location.map(ident).join(', ')} FROM pgrst_m LIMIT 1) _l)` : 'NULL';
  const inserted = w.merged ? '(SELECT count(*) FILTER (WHERE pgrst_inserted) FROM pgrst_m)::int' : 'NULL::int';
  return `${withSql} SELECT (SELECT count(*) FROM pgrst_m)::int AS n, ${body} AS body, ${loc} AS loc, ${inserted} AS inserted`;
}
