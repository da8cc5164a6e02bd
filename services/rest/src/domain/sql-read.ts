// SQL of a planned read, the way PostgREST spells it: rows of the root relation, each embedded resource a
// LATERAL subquery aggregated with json_agg / row_to_json, so Postgres builds the whole body in one statement.
// Names are quoted with ident(), values are bound parameters, integers are ones the parser produced.
import type { OpValue } from './grammar.js';
import type { AggregateFn } from './grammar.js';
import type { PlanCond, PlanField, PlanItem, ReadNode } from './plan-read.js';
import { ident, int, qualified, type Sql } from './sql-text.js';

export interface ReadSql {
  /** SELECT of the page (no aggregation) */
  inner: string;
  /** the same rows without ORDER/LIMIT/OFFSET, for count=planned|estimated */
  unpaged: string;
  /** count(*) of every row the filters admit */
  count: string;
  /** those rows as `SELECT 1 …` (PostgREST's count query: no grouping, joins only where a condition needs them) */
  countRows: string;
}

interface Level { projections: string[]; joins: string[]; where: string[]; orderBy: string[]; groupBy: string[] }

class ReadRenderer {
  constructor(readonly q: Sql) {}

  field(alias: string, f: PlanField): string {
    const base = f.computed ? `${qualified(f.computed.schema, f.name)}(${ident(alias)})` : `${ident(alias)}.${ident(f.name)}`;
    if (!f.path.length) return base;
    let sql = f.json ? base : `to_jsonb(${base})`;
    for (const s of f.path) sql = `(${sql}${s.arrow}${s.index ? int(Number(s.key)) : this.q.p(s.key, 'text')})`;
    return sql;
  }

  /** `lift`: this level is a to-one spread whose parent groups: its aggregates' inputs go up to be aggregated
   * there, and its embeds are jsonb so the parent can group by them. */
  level(n: ReadNode, alias: string, lift = false): Level {
    const lv: Level = { projections: [], joins: [], where: [], orderBy: [], groupBy: [] };
    /** each embed's join alias; a to-one spread's join has no body, its pgrst_found says whether a row matched */
    const laterals = new Map<string, { alias: string; spread: boolean }>();
    const groups = n.aggregates && !lift;
    for (const item of n.items) {
      if (item.kind === 'field') {
        const expr = this.field(alias, item.field);
        lv.projections.push(`${item.cast ? `(${expr})::${item.cast}` : expr}${item.as === null ? '' : ` AS ${ident(item.as)}`}`);
        if (groups) lv.groupBy.push(expr);
      } else if (item.kind === 'agg') {
        const input = item.field ? this.field(alias, item.field) : null;
        const arg = input && item.cast ? `(${input})::${item.cast}` : input;
        lv.projections.push(lift ? `${arg ?? '1'} AS ${ident(item.as)}` : `${aggregateSql(item.fn, arg ?? '*', item.outCast)} AS ${ident(item.as)}`);
      } else {
        laterals.set(item.name, { alias: this.embed(lv, item, alias, groups || lift), spread: item.spread && item.rel.toOne });
      }
    }
    for (const c of n.conds) lv.where.push(this.cond(alias, c, laterals));
    for (const o of n.order) {
      const expr = o.relation ? `${ident(laterals.get(o.relation)!.alias)}.${ident(`pgrst_o${o.slot}`)}` : this.field(alias, o.field);
      lv.orderBy.push(`${expr} ${o.desc ? 'DESC' : 'ASC'}${o.nulls ? ` NULLS ${o.nulls === 'first' ? 'FIRST' : 'LAST'}` : ''}`);
    }
    return lv;
  }

  /** An embedded resource as a LATERAL join of `lv`; its projections join `lv`'s. `jsonb`: the level groups (or its
   * parent does), and json has no equality to group by. Returns the join's alias. */
  embed(lv: Level, item: Extract<PlanItem, { kind: 'embed' }>, alias: string, jsonb: boolean): string {
    const { rel } = item;
    const t = this.q.alias('t'), e = this.q.alias('e');
    const liftInto = item.spread && rel.toOne && jsonb;
    const child = this.level(item.node, t, liftInto);
    let from = `${qualified(rel.target.schema, rel.target.name)} AS ${ident(t)}`;
    const conds = [...child.where];
    if (rel.junction) {
      const j = this.q.alias('j');
      from += ` JOIN ${qualified(rel.junction.table.schema, rel.junction.table.name)} AS ${ident(j)} ON ${rel.junction.targetPairs.map(([jc, tc]) => `${ident(j)}.${ident(jc)} = ${ident(t)}.${ident(tc)}`).join(' AND ')}`;
      conds.unshift(...rel.junction.sourcePairs.map(([sc, jc]) => `${ident(j)}.${ident(jc)} = ${ident(alias)}.${ident(sc)}`));
    } else {
      conds.unshift(...rel.pairs.map(([sc, tc]) => `${ident(t)}.${ident(tc)} = ${ident(alias)}.${ident(sc)}`));
    }
    const tail = `${child.joins.join(' ')} WHERE ${conds.join(' AND ')}${child.groupBy.length ? ` GROUP BY ${child.groupBy.join(', ')}` : ''}`;
    const body = jsonb ? `${ident(e)}.body::jsonb` : `${ident(e)}.body`;
    // A to-one embed also exposes the fields its parent orders by, as pgrst_o0, pgrst_o1, …
    const extra = item.orderFields.map((f, i) => `, ${this.field(t, f)} AS ${ident(`pgrst_o${i}`)}`).join('');
    if (rel.toOne && item.spread) {
      // to-one spread: the child's columns themselves, lifted into this level (aggregated here when it groups).
      lv.joins.push(`${item.inner ? 'INNER' : 'LEFT'} JOIN LATERAL (SELECT ${[...child.projections, 'TRUE AS pgrst_found'].join(', ')}${extra} FROM ${from} ${tail}) AS ${ident(e)} ON TRUE`);
      const aggs = new Map(item.node.items.flatMap((i) => (i.kind === 'agg' ? [[i.as, i] as const] : [])));
      for (const k of item.node.keys) {
        const col = `${ident(e)}.${ident(k)}`;
        const agg = liftInto ? aggs.get(k) : undefined;
        lv.projections.push(`${agg ? aggregateSql(agg.fn, col, agg.outCast) : col} AS ${ident(k)}`);
        if (jsonb && !agg) lv.groupBy.push(col);
      }
    } else if (rel.toOne) {
      lv.joins.push(item.node.aggregates
        ? `LEFT JOIN LATERAL (SELECT row_to_json(_e) AS body FROM (SELECT ${child.projections.join(', ')} FROM ${from} ${tail}) _e) AS ${ident(e)} ON TRUE`
        : `LEFT JOIN LATERAL (SELECT (SELECT row_to_json(_e) FROM (SELECT ${child.projections.join(', ')}) _e) AS body${extra} FROM ${from} ${tail}) AS ${ident(e)} ON TRUE`);
    } else {
      const page = `${child.orderBy.length ? ` ORDER BY ${child.orderBy.join(', ')}` : ''} LIMIT ${int(item.node.limit)}${item.node.offset ? ` OFFSET ${int(item.node.offset)}` : ''}`;
      lv.joins.push(`LEFT JOIN LATERAL (SELECT json_agg(_e) AS body FROM (SELECT ${child.projections.join(', ')} FROM ${from} ${tail}${page}) _e) AS ${ident(e)} ON TRUE`);
    }
    if (item.inner && !(rel.toOne && item.spread)) lv.where.push(`${ident(e)}.body IS NOT NULL`);
    if (item.spread && !rel.toOne) {
      for (const k of item.node.keys) {
        // to-many spread (PostgREST 13): each column becomes an array.
        lv.projections.push(`COALESCE((SELECT json_agg(_x->${this.q.p(k, 'text')}) FROM json_array_elements(${ident(e)}.body) _x), '[]'::json) AS ${ident(k)}`);
      }
    } else if (!item.spread && item.selected) {
      lv.projections.push(rel.toOne ? `${body} AS ${ident(item.name)}` : `COALESCE(${body}, '[]'${jsonb ? '::jsonb' : '::json'}) AS ${ident(item.name)}`);
      if (jsonb) lv.groupBy.push(body);
    }
    return e;
  }

  cond(alias: string, c: PlanCond, laterals: Map<string, { alias: string; spread: boolean }>): string {
    if (c.kind === 'tree') {
      const sql = `(${c.items.map((x) => this.cond(alias, x, laterals)).join(c.and ? ' AND ' : ' OR ')})`;
      return c.negate ? `NOT ${sql}` : sql;
    }
    if (c.kind === 'embedded') {
      const l = laterals.get(c.embed)!;
      return `${ident(l.alias)}.${l.spread ? 'pgrst_found' : 'body'} IS ${c.isNull ? '' : 'NOT '}NULL`;
    }
    const sql = opSql(this.q, this.field(alias, c.field), c.op, c.tsvector);
    return c.op.negate ? `NOT (${sql})` : sql;
  }
}

/** The read of `node` from `fromSql` (a relation, a function call or a write's rows) under `alias`. */
export function readSql(q: Sql, node: ReadNode, fromSql: string, alias: string): ReadSql {
  const lv = new ReadRenderer(q).level(node, alias);
  const where = lv.where.length ? ` WHERE ${lv.where.join(' AND ')}` : '';
  const group = lv.groupBy.length ? ` GROUP BY ${lv.groupBy.join(', ')}` : '';
  const joins = lv.joins.join(' ');
  const order = lv.orderBy.length ? ` ORDER BY ${lv.orderBy.join(', ')}` : '';
  const unpaged = `SELECT ${lv.projections.join(', ')} FROM ${fromSql} ${joins}${where}${group}`;
  return {
    inner: `${unpaged}${order} LIMIT ${int(node.limit)}${node.offset ? ` OFFSET ${int(node.offset)}` : ''}`,
    unpaged,
    count: `SELECT count(*) FROM ${fromSql} ${node.condsUseJoins ? joins : ''}${where}`,
    countRows: `SELECT 1 FROM ${fromSql} ${node.condsUseJoins ? joins : ''}${where}`,
  };
}

/** `SUM(x)`, `COUNT(*)`, with PostgREST's output cast. */
function aggregateSql(fn: AggregateFn, arg: string, cast: string | null): string {
  const sql = `${fn.toUpperCase()}(${arg})`;
  return cast ? `(${sql})::${cast}` : sql;
}

/** Conditions on a write's target (no embeds there). */
export const whereSql = (q: Sql, alias: string, conds: PlanCond[]) => conds.map((c) => new ReadRenderer(q).cond(alias, c, new Map()));

const SIMPLE: Record<string, string> = {
  eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE', match: '~', imatch: '~*',
  cs: '@>', cd: '<@', ov: '&&', sl: '<<', sr: '>>', nxr: '&<', nxl: '&>', adj: '-|-',
};
const FTS: Record<string, string> = { fts: 'to_tsquery', plfts: 'plainto_tsquery', phfts: 'phraseto_tsquery', wfts: 'websearch_to_tsquery' };
const IS: Record<string, string> = { null: 'NULL', not_null: 'NOT NULL', true: 'TRUE', false: 'FALSE', unknown: 'UNKNOWN' };

const likeValue = (o: OpValue) => (o.op === 'like' || o.op === 'ilike' ? o.value.replace(/\*/g, '%') : o.value);

export function opSql(q: Sql, lhs: string, o: OpValue, isTsvector: boolean): string {
  if (o.modifier) return `${lhs} ${SIMPLE[o.op]} ${o.modifier.toUpperCase()}(${q.p(likeValue(o))})`;
  switch (o.op) {
    case 'is': return `${lhs} IS ${IS[o.value.toLowerCase()]}`;
    case 'isdistinct': return `${lhs} IS DISTINCT FROM ${q.p(o.value)}`;
    case 'in': return o.list!.length ? `${lhs} = ANY(${q.p(o.list)})` : 'FALSE';
    case 'fts': case 'plfts': case 'phfts': case 'wfts': {
      const cfg = o.config ? `${q.p(o.config, 'regconfig')}, ` : '';
      const doc = isTsvector ? lhs : `to_tsvector(${cfg}${lhs})`;
      return `${doc} @@ ${FTS[o.op]}(${cfg}${q.p(o.value)})`;
    }
    case 'like': case 'ilike': return `${lhs} ${SIMPLE[o.op]} ${q.p(likeValue(o))}`;
    default: return `${lhs} ${SIMPLE[o.op]} ${q.p(o.value)}`;
  }
}
