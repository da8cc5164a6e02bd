// Stage 3 of a request: a plan → parameterised SQL text and its values. One statement answers the request
// (body, row count, total, Location, inserted count in one row); count=planned|estimated adds an EXPLAIN and a
// bounded exact count, run in the same transaction.
import type { Step } from '../db/pipeline.js';
import type { Statements } from '../db/execute.js';
import type { CallArg } from './plan-call.js';
import type { BodyFormat, Plan } from './plan.js';
import { readSql, type ReadSql } from './sql-read.js';
import { writeSql } from './sql-write.js';
import { CSV_ROWS, GEOJSON_ROWS, ident, int, qualified, Sql } from './sql-text.js';

/** `scalar`: the rows are one column whose values form the array (set-returning scalar functions). */
function aggregate(r: ReadSql, exact: boolean, scalar: string | null, stripNulls: boolean, out: BodyFormat): string {
  const agg = scalar ? `json_agg(_r.${ident(scalar)})` : stripNulls ? 'json_agg(json_strip_nulls(row_to_json(_r)))' : 'json_agg(_r)';
  return `SELECT ${out === 'csv' ? CSV_ROWS : out === 'geojson' ? GEOJSON_ROWS : `coalesce(${agg}, '[]')::text`} AS body, count(*)::int AS n, ${exact ? `(${r.count})` : 'NULL'}::bigint AS total FROM (${r.inner}) _r`;
}

function callSql(q: Sql, schema: string, name: string, args: CallArg[]): string {
  const list = args.map((a) => (a.name === null ? q.p(a.value, a.type) : `${ident(a.name)} := ${q.p(a.value, a.type)}`));
  return `${qualified(schema, name)}(${list.join(', ')})`;
}

export function toSql(plan: Plan): Statements {
  const q = new Sql();
  let text: string;
  let read: ReadSql | null = null;
  if (plan.kind === 'read') {
    read = readSql(q, plan.node, `${qualified(plan.table.schema, plan.table.name)} AS "t0"`, 't0');
    text = aggregate(read, plan.count === 'exact', null, plan.stripNulls, plan.out);
  } else if (plan.kind === 'write') {
    text = writeSql(q, plan);
  } else {
    const call = callSql(q, plan.fn.schema, plan.fn.name, plan.args);
    const { shape } = plan;
    if (shape.kind === 'void') text = `SELECT ${call}::text AS body`;
    else if (shape.kind === 'scalar') text = `SELECT to_json(${call})::text AS body`;
    else {
      const from = shape.scalarColumn ? `${call} AS "t0"(${ident(shape.scalarColumn)})` : `${call} AS "t0"`;
      read = readSql(q, plan.node!, from, 't0');
      text = aggregate(read, plan.count === 'exact', shape.scalarColumn, false, plan.out);
    }
  }
  // Prepared statements are named after their text; the schema generation in it retires them after DDL, so no
  // statement analysed against an older schema is reused on a pooled connection.
  const est = plan.exec.estimate;
  return {
    main: step(plan, q, text),
    explain: est && read ? compact(step(plan, q, `EXPLAIN (FORMAT JSON) ${read.countRows}`)) : null,
    // count=estimated counts exactly up to one row past max-rows (PostgREST's LIMIT maxRows + 1)
    exact: est?.exactUpTo != null && read ? compact(step(plan, q, `SELECT count(*)::bigint AS c FROM (${read.countRows} LIMIT ${int(est.exactUpTo + 1)}) _c`)) : null,
  };
}

const step = (plan: Plan, q: Sql, sql: string): Step => ({ text: `/* ${plan.generation} */ ${sql}`, values: q.params });

/**
 * The statement with only the parameters its text uses, renumbered from $1. The counting statements leave out the
 * select list, whose parameters (a JSON path's keys) Postgres would then refuse: a Bind with more values than the
 * statement has parameters is an error (08P01), and so is a parameter left out below one used.
 */
export function compact(s: Step): Step {
  const renumbered = new Map<number, number>();
  const values: unknown[] = [];
  let text = '';
  let quote: string | null = null; // inside '…' or "…" (a doubled quote closes and reopens: the same text)
  for (let i = 0; i < s.text.length; i++) {
    const c = s.text[i]!;
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '$' && s.text.charCodeAt(i + 1) >= 48 && s.text.charCodeAt(i + 1) <= 57) {
      let j = i + 1;
      while (s.text.charCodeAt(j) >= 48 && s.text.charCodeAt(j) <= 57) j++;
      const n = Number(s.text.slice(i + 1, j));
      let to = renumbered.get(n);
      if (to === undefined) {
        values.push(s.values[n - 1]);
        renumbered.set(n, (to = values.length));
      }
      text += `$${to}`;
      i = j - 1;
      continue;
    }
    text += c;
  }
  return { text, values };
}
