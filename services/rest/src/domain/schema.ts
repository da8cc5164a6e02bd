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

  /** Every relationship from `source` to the relation called `name` (or through the FK named `name`). */
  relationships(source: Table, name: string): Relationship[] {
    const out: Relationship[] = [];
    const target = this.table(source.schema, name);
    const m2o = (fk: CatalogConstraint, t: Table): Relationship => ({
      kind: 'm2o', toOne: true, source, target: t, constraint: fk.name, pairs: fk.columns.map((c, i) => [c, fk.refColumns[i]]),
    });
    if (target) {
      for (const fk of source.fks) if (fk.refSchema === target.schema && fk.refTable === target.name) out.push(m2o(fk, target));
      for (const fk of target.fks) {
        if (fk.refSchema !== source.schema || fk.refTable !== source.name) continue;
        out.push({ kind: 'o2m', toOne: this.#isUnique(target, fk.columns), source, target, constraint: fk.name, pairs: fk.refColumns.map((c, i) => [c, fk.columns[i]]) });
      }
      for (const j of this.tables.values()) {
        if (j === source || j === target || j.schema !== source.schema || !j.pk.length) continue;
        for (const a of j.fks) {
          if (a.refTable !== source.name || a.refSchema !== source.schema || !a.columns.every((c) => j.pk.includes(c))) continue;
          for (const b of j.fks) {
            if (b === a || b.refTable !== target.name || b.refSchema !== target.schema || !b.columns.every((c) => j.pk.includes(c))) continue;
            out.push({
              kind: 'm2m', toOne: false, source, target, constraint: j.name, pairs: [],
              junction: { table: j, sourcePairs: a.refColumns.map((c, i) => [c, a.columns[i]]), targetPairs: b.columns.map((c, i) => [c, b.refColumns[i]]), names: [a.name, b.name] },
            });
          }
        }
      }
    } else {
      // Embedding by FK constraint name or FK column name (`select=billing_address_id(*)`).
      for (const fk of source.fks) {
        if (fk.name === name || (fk.columns.length === 1 && fk.columns[0] === name)) {
          out.push(m2o(fk, this.table(fk.refSchema!, fk.refTable!)!));
        }
      }
    }
    return out;
  }

  /** The one relationship an embed means, narrowed by its hint; PGRST200 when none, PGRST201 (300) when several. */
  resolve(source: Table, name: string, hint: string | null): Relationship {
    let rels = this.relationships(source, name);
    if (hint) {
      rels = rels.filter((r) =>
        r.constraint === hint || (r.kind !== 'm2m' && r.pairs.some(([s, t]) => (r.kind === 'm2o' ? s : t) === hint)) ||
        (r.junction && (r.junction.names.includes(hint) || r.junction.table.name === hint)));
    }
    if (!rels.length) throw restErrors.noRelationship(source.name, name, source.schema);
    if (rels.length > 1) {
      const card = (r: Relationship) => (r.kind === 'm2m' ? 'many-to-many' : r.kind === 'm2o' ? 'many-to-one' : r.toOne ? 'one-to-one' : 'one-to-many');
      const details = rels.map((r) => ({
        cardinality: card(r),
        embedding: `${source.name} with ${r.target.name}`,
        relationship: r.junction ? `${r.junction.table.name} using ${r.junction.names.join(' and ')}` : `${r.constraint} using ${source.name}(${r.pairs.map((p) => p[0]).join(', ')}) and ${r.target.name}(${r.pairs.map((p) => p[1]).join(', ')})`,
      }));
      const opts = rels.map((r) => `'${name}!${r.constraint}'`).join(', ');
      throw restErrors.ambiguous(source.name, name, details, `Try changing '${name}' to one of the following: ${opts}. Find the desired relationship in the 'details' key.`);
    }
    return rels[0];
  }
}
