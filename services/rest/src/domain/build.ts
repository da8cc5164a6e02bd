// Turns a parsed read (select, filters, order, paging per embed path) into one SQL statement the way PostgREST
// does: rows of the root relation, each embedded resource a LATERAL subquery aggregated with json_agg /
// row_to_json, so the whole response body is built by Postgres in one round trip.
import { restErrors } from '../errors.js';
import type { Cond, Field, OpValue, OrderTerm, SelectItem } from './grammar.js';
import type { SchemaIndex, Table } from './schema.js';
import { castType, ident, int, qualified, Sql } from './sql.js';

export interface Limits { maxRows: number; maxDepth: number; maxFilters: number }

export interface ReadSpec {
  select: SelectItem[];
  /** keyed by embed path ('' = root, 'actors', 'roles.actors') */
  conds: Map<string, Cond[]>;
  order: Map<string, OrderTerm[]>;
  limit: Map<string, number>;
  offset: Map<string, number>;
}

export interface Level {
  projections: string[];
  keys: string[];
  joins: string[];
  where: string[];
  /** where parts that read a lateral join (the count query then needs the joins too) */
  whereUsesJoins: boolean;
  orderBy: string[];
  limit: number | null;
  offset: number | null;
}

const JSON_TYPES = new Set(['json', 'jsonb']);
const MAX_COLUMNS = 1000;

export class ReadBuilder {
  readonly usedPaths = new Set<string>();
  constructor(readonly q: Sql, readonly index: SchemaIndex, readonly spec: ReadSpec, readonly limits: Limits) {}

  /** SQL for a column (or computed field `f(table)`) with its JSON path. */
  field(table: Table, alias: string, f: Field): string {
    let base: string;
    const col = table.columns.get(f.name);
    if (col) base = `${ident(alias)}.${ident(f.name)}`;
    else {
      const fn = this.index.fn(table.schema, f.name).find((x) => x.args.length === 1 && x.args[0].type.replace(/"/g, '').endsWith(table.name));
      if (!fn) throw restErrors.noSuchColumn(table.name, f.name);
      base = `${qualified(table.schema, f.name)}(${ident(alias)})`;
    }
    if (!f.path.length) return base;
    let sql = col && JSON_TYPES.has(col.udt) ? base : `to_jsonb(${base})`;
    for (const s of f.path) sql = `(${sql}${s.arrow}${/^-?\d+$/.test(s.key) ? int(Number(s.key)) : this.q.p(s.key, 'text')})`;
    return sql;
  }

  level(table: Table, alias: string, select: SelectItem[], path: string[], depth: number): Level {
    const key = path.join('.');
    this.usedPaths.add(key);
    const lv: Level = { projections: [], keys: [], joins: [], where: [], whereUsesJoins: false, orderBy: [], limit: null, offset: null };
    const embeds = new Map<string, { lateral: string; toOne: boolean }>();
    const orders = this.spec.order.get(key) ?? [];
    for (const item of select) {
      if (item.kind === 'star') {
        for (const c of table.columns.keys()) { lv.projections.push(`${ident(alias)}.${ident(c)}`); lv.keys.push(c); }
      } else if (item.kind === 'field') {
        const out = item.alias ?? (item.path.length ? item.path[item.path.length - 1].key : item.name);
        const expr = this.field(table, alias, item);
        lv.projections.push(`${item.cast ? `(${expr})::${castType(item.cast)}` : expr} AS ${ident(out)}`);
        lv.keys.push(out);
      } else {
        if (depth + 1 > this.limits.maxDepth) throw restErrors.tooCostly(`Embedding deeper than ${this.limits.maxDepth} levels is not allowed`);
        const rel = this.index.resolve(table, item.name, item.hint);
        const name = item.alias ?? item.name;
        const childPath = [...path, name];
        const t = this.q.alias('t'), e = this.q.alias('e');
        const child = this.level(rel.target, t, item.select, childPath, depth + 1);
        let from = `${qualified(rel.target.schema, rel.target.name)} AS ${ident(t)}`;
        const conds = [...child.where];
        if (rel.junction) {
          const j = this.q.alias('j');
          from += ` JOIN ${qualified(rel.junction.table.schema, rel.junction.table.name)} AS ${ident(j)} ON ${rel.junction.targetPairs.map(([jc, tc]) => `${ident(j)}.${ident(jc)} = ${ident(t)}.${ident(tc)}`).join(' AND ')}`;
          conds.unshift(...rel.junction.sourcePairs.map(([sc, jc]) => `${ident(j)}.${ident(jc)} = ${ident(alias)}.${ident(sc)}`));
        } else {
          conds.unshift(...rel.pairs.map(([sc, tc]) => `${ident(t)}.${ident(tc)} = ${ident(alias)}.${ident(sc)}`));
        }
        const tail = `${child.joins.join(' ')} WHERE ${conds.join(' AND ')}`;
        if (rel.toOne) {
          const extra = orders.filter((o) => o.relation === name).map((o, i) => `, ${this.field(rel.target, t, o.field)} AS ${ident(`o${i}`)}`).join('');
          lv.joins.push(`LEFT JOIN LATERAL (SELECT (SELECT row_to_json(_e) FROM (SELECT ${child.projections.join(', ')}) _e) AS body${extra} FROM ${from} ${tail}) AS ${ident(e)} ON TRUE`);
        } else {
          const page = `${child.orderBy.length ? ` ORDER BY ${child.orderBy.join(', ')}` : ''} LIMIT ${int(Math.min(child.limit ?? this.limits.maxRows, this.limits.maxRows))}${child.offset ? ` OFFSET ${int(child.offset)}` : ''}`;
          lv.joins.push(`LEFT JOIN LATERAL (SELECT json_agg(_e) AS body FROM (SELECT ${child.projections.join(', ')} FROM ${from} ${tail}${page}) _e) AS ${ident(e)} ON TRUE`);
        }
        embeds.set(name, { lateral: e, toOne: rel.toOne });
        if (item.join === 'inner') { lv.where.push(`${ident(e)}.body IS NOT NULL`); lv.whereUsesJoins = true; }
        if (item.spread) {
          for (const k of child.keys) {
            // to-one: the columns lift into the parent; to-many (PostgREST 13): each column becomes an array.
            const sql = rel.toOne ? `${ident(e)}.body->${this.q.p(k, 'text')}`
              : `COALESCE((SELECT json_agg(_x->${this.q.p(k, 'text')}) FROM json_array_elements(${ident(e)}.body) _x), '[]'::json)`;
            lv.projections.push(`${sql} AS ${ident(k)}`);
            lv.keys.push(k);
          }
        } else if (item.select.length) {
          lv.projections.push(rel.toOne ? `${ident(e)}.body AS ${ident(name)}` : `COALESCE(${ident(e)}.body, '[]'::json) AS ${ident(name)}`);
          lv.keys.push(name);
        }
      }
    }
    // Postgres refuses more than 1664 output columns with a 54011 (a 500); refuse earlier with a 400.
    if (lv.projections.length > MAX_COLUMNS) throw restErrors.tooCostly(`More than ${MAX_COLUMNS} selected columns in one resource`);
    let filters = 0;
    for (const c of this.spec.conds.get(key) ?? []) {
      lv.where.push(this.cond(table, alias, c, embeds, () => { lv.whereUsesJoins = true; }));
      filters += countFilters(c);
    }
    if (filters > this.limits.maxFilters) throw restErrors.tooCostly(`More than ${this.limits.maxFilters} filters in one request`);
    for (const o of orders) {
      let expr: string;
      if (o.relation) {
        const em = embeds.get(o.relation);
        if (!em) throw restErrors.notEmbedded(o.relation);
        if (!em.toOne) throw restErrors.orderToMany(o.relation);
        const i = orders.filter((x) => x.relation === o.relation).indexOf(o);
        expr = `${ident(em.lateral)}.${ident(`o${i}`)}`;
      } else expr = this.field(table, alias, o.field);
      lv.orderBy.push(`${expr} ${o.desc ? 'DESC' : 'ASC'}${o.nulls ? ` NULLS ${o.nulls === 'first' ? 'FIRST' : 'LAST'}` : ''}`);
    }
    lv.limit = this.spec.limit.get(key) ?? null;
    lv.offset = this.spec.offset.get(key) ?? null;
    return lv;
  }

  cond(table: Table, alias: string, c: Cond, embeds: Map<string, { lateral: string }>, usesJoin: () => void): string {
    if (c.kind === 'tree') {
      const parts = c.items.map((x) => this.cond(table, alias, x, embeds, usesJoin));
      const sql = `(${parts.join(c.and ? ' AND ' : ' OR ')})`;
      return c.negate ? `NOT ${sql}` : sql;
    }
    const em = !c.field.path.length ? embeds.get(c.field.name) : undefined;
    if (em && !table.columns.has(c.field.name)) {
      if (c.op.op !== 'is' || !['null', 'not_null'].includes(c.op.value.toLowerCase())) throw restErrors.embedFilter();
      usesJoin();
      const isNull = (c.op.value.toLowerCase() === 'null') !== c.op.negate;
      return `${ident(em.lateral)}.body IS ${isNull ? '' : 'NOT '}NULL`;
    }
    const col = table.columns.get(c.field.name);
    const sql = opSql(this.q, this.field(table, alias, c.field), c.op, !!col && col.udt === 'tsvector' && !c.field.path.length);
    return c.op.negate ? `NOT (${sql})` : sql;
  }
}

const countFilters = (c: Cond): number => (c.kind === 'filter' ? 1 : c.items.reduce((n, x) => n + countFilters(x), 0));

const SIMPLE: Record<string, string> = {
  eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE', match: '~', imatch: '~*',
  cs: '@>', cd: '<@', ov: '&&', sl: '<<', sr: '>>', nxr: '&<', nxl: '&>', adj: '-|-',
};
const FTS: Record<string, string> = { fts: 'to_tsquery', plfts: 'plainto_tsquery', phfts: 'phraseto_tsquery', wfts: 'websearch_to_tsquery' };
const IS: Record<string, string> = { null: 'NULL', not_null: 'NOT NULL', true: 'TRUE', false: 'FALSE', unknown: 'UNKNOWN' };

export function opSql(q: Sql, lhs: string, o: OpValue, isTsvector: boolean): string {
  const likeValue = (v: string) => (o.op === 'like' || o.op === 'ilike' ? v.replace(/\*/g, '%') : v);
  if (o.modifier) return `${lhs} ${SIMPLE[o.op]} ${o.modifier.toUpperCase()}(${q.p(likeValue(o.value))})`;
  switch (o.op) {
    case 'is': return `${lhs} IS ${IS[o.value.toLowerCase()]}`;
    case 'isdistinct': return `${lhs} IS DISTINCT FROM ${q.p(o.value)}`;
    case 'in': return o.list!.length ? `${lhs} = ANY(${q.p(o.list)})` : 'FALSE';
    case 'fts': case 'plfts': case 'phfts': case 'wfts': {
      const cfg = o.config ? `${q.p(o.config, 'regconfig')}, ` : '';
      const doc = isTsvector ? lhs : `to_tsvector(${cfg}${lhs})`;
      return `${doc} @@ ${FTS[o.op]}(${cfg}${q.p(o.value)})`;
    }
    case 'like': case 'ilike': return `${lhs} ${SIMPLE[o.op]} ${q.p(likeValue(o.value))}`;
    case 'eq': case 'neq': case 'gt': case 'gte': case 'lt': case 'lte': case 'match': case 'imatch':
      return `${lhs} ${SIMPLE[o.op]} ${q.p(o.value)}`;
    default: return `${lhs} ${SIMPLE[o.op]} ${q.p(o.value)}`;
  }
}
