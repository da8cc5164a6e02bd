// Stage 2 for reads: a ReadSpec (select tree, filters, order, paging per embed path) resolved against the schema
// cache into a tree of relations, columns and relationships, the way PostgREST plans embeds. Every name is looked
// up and every limit enforced here; nothing is spelled as SQL.
import { restErrors } from '../errors.js';
import { castType, type AggregateFn, type Cond, type Field, type OpValue, type PathStep, type SelectItem } from './grammar.js';
import type { ReadSpec } from './query.js';
import type { Relationship, SchemaIndex, Table } from './schema.js';

export interface Limits {
  maxRows: number; maxDepth: number; maxFilters: number;
  /** the project allows aggregate functions in select (PostgREST db-aggregates-enabled) */
  aggregates?: boolean;
  /** the project allows PATCH and DELETE without a filter (settings.rest.safe_updates false) */
  unfilteredWrites?: boolean;
}

/** A column, or a computed field `schema.fn(row)`, with an optional JSON path into it. */
export interface PlanField { name: string; computed: { schema: string } | null; path: PathStep[]; json: boolean }

export type PlanItem =
  /** `as` null: a column of `*`, projected under its own name */
  | { kind: 'field'; field: PlanField; as: string | null; cast: string | null }
  /** `field` null: count() of rows; `cast` applies to the input, `outCast` to the result */
  | { kind: 'agg'; fn: AggregateFn; field: PlanField | null; cast: string | null; outCast: string | null; as: string }
  | { kind: 'embed'; name: string; rel: Relationship; node: ReadNode; inner: boolean; spread: boolean; selected: boolean; orderFields: PlanField[] };

export type PlanCond =
  | { kind: 'filter'; field: PlanField; op: OpValue; tsvector: boolean }
  /** `rel=is.null` / `rel=not.is.null` on an embedded resource */
  | { kind: 'embedded'; embed: string; isNull: boolean }
  | { kind: 'tree'; and: boolean; negate: boolean; items: PlanCond[] };

/** `relation` set: ordered by a to-one embed's field, exposed by that embed as its `o<slot>` column */
export interface PlanOrder { field: PlanField; relation: string | null; slot: number; desc: boolean; nulls: 'first' | 'last' | null }

export interface ReadNode {
  table: Table;
  items: PlanItem[];
  /** output keys, in order (what a spread lifts into its parent) */
  keys: string[];
  conds: PlanCond[];
  /** a condition reads an embed, so a count needs the joins too */
  condsUseJoins: boolean;
  order: PlanOrder[];
  /** aggregate functions in this level's select (or lifted from a to-one spread): the other columns group */
  aggregates: boolean;
  /** rows of this level (db-max-rows applied); unused by to-one embeds */
  limit: number;
  offset: bigint | null;
}

const JSON_TYPES = new Set(['json', 'jsonb']);
const MAX_COLUMNS = 1000;

const countFilters = (c: Cond): number => (c.kind === 'filter' ? 1 : c.items.reduce((n, x) => n + countFilters(x), 0));

export class ReadPlanner {
  readonly usedPaths = new Set<string>();
  constructor(readonly index: SchemaIndex, readonly spec: ReadSpec, readonly limits: Limits) {}

  field(table: Table, f: Field): PlanField {
    const col = table.columns.get(f.name);
    if (col) return { name: f.name, computed: null, path: f.path, json: JSON_TYPES.has(col.udt) };
    const fn = this.index.fn(table.schema, f.name).find((x) => x.args.length === 1 && x.args[0].type.replace(/"/g, '').endsWith(table.name));
    if (!fn) throw restErrors.noSuchColumn(table.name, f.name);
    return { name: f.name, computed: { schema: table.schema }, path: f.path, json: false };
  }

  node(table: Table, select: SelectItem[], path: string[], depth: number): ReadNode {
    const key = path.join('.');
    this.usedPaths.add(key);
    const n: ReadNode = { table, items: [], keys: [], conds: [], condsUseJoins: false, aggregates: false, order: [], limit: this.limits.maxRows, offset: null };
    const embeds = new Map<string, Extract<PlanItem, { kind: 'embed' }>>();
    const orders = this.spec.order.get(key) ?? [];
    let columns = 0;
    for (const item of select) {
      if (item.kind === 'star') {
        for (const c of table.columns.keys()) n.items.push({ kind: 'field', field: this.field(table, { name: c, path: [] }), as: null, cast: null });
        n.keys.push(...table.columns.keys());
        columns += table.columns.size;
      } else if (item.kind === 'field' && item.agg) {
        if (!this.limits.aggregates) throw restErrors.aggregatesDisabled();
        const as = item.alias ?? item.agg.fn;
        const field = item.name === '*' && !item.path.length ? null : this.field(table, item);
        n.items.push({ kind: 'agg', fn: item.agg.fn, field, cast: item.cast ? castType(item.cast) : null, outCast: item.agg.cast, as });
        n.keys.push(as);
        n.aggregates = true;
        columns++;
      } else if (item.kind === 'field') {
        const as = item.alias ?? (item.path.length ? item.path[item.path.length - 1].key : item.name);
        n.items.push({ kind: 'field', field: this.field(table, item), as, cast: item.cast ? castType(item.cast) : null });
        n.keys.push(as);
        columns++;
      } else {
        if (depth + 1 > this.limits.maxDepth) throw restErrors.tooCostly(`Embedding deeper than ${this.limits.maxDepth} levels is not allowed`);
        const rel = this.index.resolve(table, item.name, item.hint);
        const name = item.alias ?? item.name;
        // PostgREST joins each embed as <table>_<name>_<depth>: the same name twice is Postgres' 42712 there.
        if (embeds.has(name)) throw restErrors.duplicateEmbed(`${table.name}_${name}_${depth + 1}`);
        const child = this.node(rel.target, item.select, [...path, name], depth + 1);
        const orderFields = orders.filter((o) => o.relation === name).map((o) => this.field(rel.target, o.field));
        const embed = { kind: 'embed' as const, name, rel, node: child, inner: item.join === 'inner', spread: item.spread, selected: item.select.length > 0, orderFields };
        n.items.push(embed);
        embeds.set(name, embed);
        if (embed.inner) n.condsUseJoins = true;
        // A to-one spread's aggregates are computed at this level, over this level's rows (PostgREST's spread).
        if (item.spread && child.items.some((i) => i.kind === 'agg')) {
          if (!rel.toOne) throw restErrors.notImplemented('Aggregates are not implemented for one-to-many or many-to-many spreads.');
          n.aggregates = true;
        }
        const out = item.spread ? child.keys : embed.selected ? [name] : [];
        n.keys.push(...out);
        columns += out.length;
      }
    }
    // Postgres refuses more than 1664 output columns with a 54011 (a 500); refuse earlier with a 400.
    if (columns > MAX_COLUMNS) throw restErrors.tooCostly(`More than ${MAX_COLUMNS} selected columns in one resource`);
    let filters = 0;
    for (const c of this.spec.conds.get(key) ?? []) {
      n.conds.push(this.cond(table, c, embeds, () => void (n.condsUseJoins = true)));
      filters += countFilters(c);
    }
    if (filters > this.limits.maxFilters) throw restErrors.tooCostly(`More than ${this.limits.maxFilters} filters in one request`);
    for (const o of orders) {
      if (!o.relation) {
        n.order.push({ field: this.field(table, o.field), relation: null, slot: 0, desc: o.desc, nulls: o.nulls });
        continue;
      }
      const em = embeds.get(o.relation);
      if (!em) throw restErrors.notEmbedded(o.relation);
      if (!em.rel.toOne) throw restErrors.orderToMany(table.name, o.relation);
      const slot = orders.filter((x) => x.relation === o.relation).indexOf(o);
      n.order.push({ field: em.orderFields[slot], relation: o.relation, slot, desc: o.desc, nulls: o.nulls });
    }
    const limit = this.spec.limit.get(key);
    if (limit !== undefined) n.limit = Math.min(limit, this.limits.maxRows);
    n.offset = this.spec.offset.get(key) ?? null;
    return n;
  }

  /** `embeds`: the level's embedded resources, which `rel=is.null` may test */
  cond(table: Table, c: Cond, embeds: Map<string, unknown>, usesJoin: () => void): PlanCond {
    if (c.kind === 'tree') return { kind: 'tree', and: c.and, negate: c.negate, items: c.items.map((x) => this.cond(table, x, embeds, usesJoin)) };
    if (!c.field.path.length && embeds.has(c.field.name) && !table.columns.has(c.field.name)) {
      if (c.op.op !== 'is' || !['null', 'not_null'].includes(c.op.value.toLowerCase())) throw restErrors.embedFilter(c.field.name);
      usesJoin();
      return { kind: 'embedded', embed: c.field.name, isNull: (c.op.value.toLowerCase() === 'null') !== c.op.negate };
    }
    const col = table.columns.get(c.field.name);
    return { kind: 'filter', field: this.field(table, c.field), op: c.op, tsvector: !!col && col.udt === 'tsvector' && !c.field.path.length };
  }
}

/** The read of `table` (a relation, a function's rows or a write's rows) as a tree; PGRST108 for a filter,
 * order or limit on an embed path that is not selected. */
export function planRead(index: SchemaIndex, limits: Limits, table: Table, spec: ReadSpec): ReadNode {
  const p = new ReadPlanner(index, spec, limits);
  const root = p.node(table, spec.select, [], 0);
  for (const m of [spec.conds, spec.order, spec.limit, spec.offset]) {
    for (const path of m.keys()) if (!p.usedPaths.has(path)) throw restErrors.notEmbedded(path);
  }
  const asked = spec.limit.get('');
  if (asked !== undefined && asked > limits.maxRows) throw restErrors.tooCostly(`A limit above ${limits.maxRows} rows is not allowed`);
  return root;
}
