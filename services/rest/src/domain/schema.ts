// The schema cache of one project as the request planner sees it: tables by name, their keys, and the
// relationships PostgREST derives from foreign keys (many-to-one, one-to-many, many-to-many via a junction).
import type { Catalog, CatalogColumn, CatalogConstraint, CatalogFunction } from '../db/catalog.js';
import { restErrors } from '../errors.js';

export interface Table {
  schema: string;
  name: string;
  kind: string;
  comment: string | null;
  columns: Map<string, CatalogColumn>;
  pk: string[];
  uniques: string[][];
  fks: CatalogConstraint[];
}

export interface Relationship {
  kind: 'm2o' | 'o2m' | 'm2m';
  toOne: boolean;
  source: Table;
  target: Table;
  constraint: string;
  /** source column = target column (direct); for m2m: source = junction side 1 */
  pairs: [string, string][];
  junction?: { table: Table; sourcePairs: [string, string][]; targetPairs: [string, string][]; names: [string, string] };
}

const key = (schema: string, name: string) => `${schema}\u0000${name}`;
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

export class SchemaIndex {
  readonly tables = new Map<string, Table>();
  readonly functions = new Map<string, CatalogFunction[]>();
  readonly #relationships = new Map<Table, Relationship[]>();
  /** changes with every load: statements prepared against an older schema are never reused after DDL */
  readonly generation = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  constructor(catalog: Catalog, readonly schemas: string[]) {
    for (const r of catalog.relations) {
      this.tables.set(key(r.schema, r.name), {
        schema: r.schema, name: r.name, kind: r.kind, comment: r.comment,
        columns: new Map(r.columns.map((c) => [c.name, c])), pk: [], uniques: [], fks: [],
      });
    }
    for (const c of catalog.constraints) {
      const t = this.tables.get(key(c.schema, c.table));
      if (!t) continue;
      if (c.type === 'p') t.pk = c.columns;
      if (c.type === 'p' || c.type === 'u') t.uniques.push(c.columns);
      if (c.type === 'f' && c.refSchema && c.refTable && this.tables.has(key(c.refSchema, c.refTable))) t.fks.push(c);
    }
    this.#viewRelationships(catalog);
    for (const f of catalog.functions) {
      const k = key(f.schema, f.name);
      this.functions.set(k, [...(this.functions.get(k) ?? []), f]);
    }
  }

  /** Views inherit the keys and foreign keys of the base-table columns they expose under the same name. */
  #viewRelationships(catalog: Catalog) {
    const used = new Map<string, Map<string, Set<string>>>(); // view key → base table key → columns
    for (const u of catalog.viewColumns) {
      const v = key(u.viewSchema, u.view), t = key(u.tableSchema, u.table);
      if (!used.has(v)) used.set(v, new Map());
      const m = used.get(v)!;
      if (!m.has(t)) m.set(t, new Set());
      m.get(t)!.add(u.column);
    }
    const original = new Map([...this.tables].map(([k, t]) => [k, [...t.fks]]));
    for (const [vk, bases] of used) {
      const view = this.tables.get(vk);
      if (!view) continue;
      for (const [tk, cols] of bases) {
        const base = this.tables.get(tk);
        if (!base) continue;
        const exposed = (names: string[]) => names.every((c) => cols.has(c) && view.columns.has(c));
        if (base.pk.length && exposed(base.pk) && !view.pk.length) { view.pk = base.pk; view.uniques.push(base.pk); }
        for (const u of base.uniques) if (exposed(u) && !view.uniques.some((x) => sameSet(x, u))) view.uniques.push(u);
        for (const fk of original.get(tk) ?? []) {
          if (exposed(fk.columns)) view.fks.push({ ...fk, schema: view.schema, table: view.name });
        }
        for (const [ok, fks] of original) {
          const other = this.tables.get(ok)!;
          for (const fk of fks) {
            if (key(fk.refSchema!, fk.refTable!) === tk && exposed(fk.refColumns)) other.fks.push({ ...fk, refSchema: view.schema, refTable: view.name });
          }
        }
      }
    }
  }

  table(schema: string, name: string): Table | undefined {
    return this.tables.get(key(schema, name));
  }

  fn(schema: string, name: string): CatalogFunction[] {
    return this.functions.get(key(schema, name)) ?? [];
  }

  requireTable(schema: string, name: string): Table {
    const t = this.table(schema, name);
    if (!t) throw restErrors.noTable(schema, name);
    return t;
  }

  #isUnique(t: Table, cols: string[]) {
    return t.uniques.some((u) => sameSet(u, cols));
  }

  /** Every relationship of `source` (many-to-one, one-to-many, many-to-many through a junction), computed once per
   * table of this (immutable) cache. */
  allRelationships(source: Table): Relationship[] {
    const cached = this.#relationships.get(source);
    if (cached) return cached;
    const out: Relationship[] = [];
    for (const fk of source.fks) {
      const target = this.table(fk.refSchema!, fk.refTable!)!;
      out.push({ kind: 'm2o', toOne: true, source, target, constraint: fk.name, pairs: fk.columns.map((c, i) => [c, fk.refColumns[i]]) });
    }
    for (const target of this.tables.values()) {
      for (const fk of target.fks) {
        if (fk.refSchema !== source.schema || fk.refTable !== source.name) continue;
        out.push({ kind: 'o2m', toOne: this.#isUnique(target, fk.columns), source, target, constraint: fk.name, pairs: fk.refColumns.map((c, i) => [c, fk.columns[i]]) });
      }
    }
    for (const j of this.tables.values()) {
      if (j === source || j.schema !== source.schema || !j.pk.length) continue;
      for (const a of j.fks) {
        if (a.refTable !== source.name || a.refSchema !== source.schema || !a.columns.every((c) => j.pk.includes(c))) continue;
        for (const b of j.fks) {
          if (b === a || !b.columns.every((c) => j.pk.includes(c))) continue;
          const target = this.table(b.refSchema!, b.refTable!)!;
          if (target === j) continue;
          out.push({
            kind: 'm2m', toOne: false, source, target, constraint: j.name, pairs: [],
            junction: { table: j, sourcePairs: a.refColumns.map((c, i) => [c, a.columns[i]]), targetPairs: b.columns.map((c, i) => [c, b.refColumns[i]]), names: [a.name, b.name] },
          });
        }
      }
    }
    this.#relationships.set(source, out);
    return out;
  }

  /** The relationships `select=name!hint(…)` can mean from `source`, by PostgREST's rules (findRel): the target is
   * a table or view name, or (for tables only: relationships to views are never named by constraint or column) an
   * FK constraint name or the source's FK column; a hint names the constraint, a column of either side or the
   * junction. A self-referencing table's own name means its children (one-to-many); its FK column, the parent. */
  relationships(source: Table, name: string, hint: string | null): Relationship[] {
    const single = (r: Relationship, side: 0 | 1, col: string) => r.kind !== 'm2m' && r.pairs.length === 1 && r.pairs[0][side] === col;
    const isView = (t: Table) => t.kind === 'v' || t.kind === 'm';
    return this.allRelationships(source).filter((r) => {
      const targetName = r.target.name === name && r.target.schema === source.schema;
      if (r.target === source && r.kind !== 'm2m') {
        if (!hint) return (targetName && r.kind === 'o2m') || (r.kind === 'm2o' && single(r, 0, name));
        return targetName && r.kind === 'o2m' && single(r, 1, hint);
      }
      if (r.target === source) return false;
      if (!hint) return targetName || (!isView(r.target) && r.kind !== 'm2m' && (r.constraint === name || single(r, 0, name)));
      return targetName && ((r.kind !== 'm2m' && r.constraint === hint) || single(r, 0, hint) || single(r, 1, hint) || r.junction?.table.name === hint);
    });
  }

  /** The one relationship an embed means, narrowed by its hint; PGRST200 when none, PGRST201 (300) when several. */
  resolve(source: Table, name: string, hint: string | null): Relationship {
    const rels = this.relationships(source, name, hint);
    if (!rels.length) throw restErrors.noRelationship(source.name, name, source.schema, hint);
    if (rels.length > 1) {
      // PostgREST's compressedRel and relHint: one-to-one when the FK columns are unique, the junction's FK columns
      // for many-to-many, and the hint names the foreign table.
      const card = (r: Relationship) => (r.kind === 'm2m' ? 'many-to-many' : r.kind === 'm2o' ? (this.#isUnique(source, r.pairs.map((x) => x[0])) ? 'one-to-one' : 'many-to-one') : r.toOne ? 'one-to-one' : 'one-to-many');
      const cols = (xs: string[]) => `(${xs.join(', ')})`;
      const details = rels.map((r) => ({
        cardinality: card(r),
        embedding: `${source.name} with ${r.target.name}`,
        relationship: r.junction
          ? `${r.junction.table.name} using ${r.junction.names[0]}${cols(r.junction.sourcePairs.map((x) => x[1]))} and ${r.junction.names[1]}${cols(r.junction.targetPairs.map((x) => x[0]))}`
          : `${r.constraint} using ${source.name}${cols(r.pairs.map((x) => x[0]))} and ${r.target.name}${cols(r.pairs.map((x) => x[1]))}`,
      }));
      const opts = rels.map((r) => `'${r.target.name}!${r.constraint}'`).join(', ');
      throw restErrors.ambiguous(source.name, name, details, `Try changing '${name}' to one of the following: ${opts}. Find the desired relationship in the 'details' key.`);
    }
    return rels[0];
  }
}
