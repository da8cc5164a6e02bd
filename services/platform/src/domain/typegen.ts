// TypeScript types in the shape `supabase gen types typescript` writes: `Database[schema]` with Tables (Row,
// Insert, Update, Relationships), Views, Functions (Args, Returns), Enums and CompositeTypes, plus the Tables<>
// helpers, so supabase-js's createClient<Database>() types every query.
import type { ColumnInfo, typeCatalog } from './catalog.js';

type Catalog = Awaited<ReturnType<typeof typeCatalog>>;

const SCALARS: Record<string, string> = {
  bool: 'boolean', int2: 'number', int4: 'number', int8: 'number', float4: 'number', float8: 'number', numeric: 'number', oid: 'number',
  money: 'string', text: 'string', varchar: 'string', bpchar: 'string', char: 'string', name: 'string', citext: 'string', uuid: 'string',
  date: 'string', time: 'string', timetz: 'string', timestamp: 'string', timestamptz: 'string', interval: 'string', bytea: 'string',
  inet: 'string', cidr: 'string', macaddr: 'string', tsvector: 'unknown', json: 'Json', jsonb: 'Json', void: 'undefined', record: 'Json',
};

const quote = (s: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s) ? s : JSON.stringify(s));

/** `named`: enum and composite type names (see namedTypes) */
function tsType(udt: string, isArray: boolean, enums: Map<string, string>): string {
  const base = enums.get(udt) ?? SCALARS[udt] ?? 'unknown';
  return isArray ? `${base}[]` : base;
}

function columnType(c: ColumnInfo, enums: Map<string, string>) {
  return tsType(c.udt, c.is_array, enums) + (c.nullable ? ' | null' : '');
}

function block(entries: string[], indent: string): string {
  return entries.length ? `{\n${entries.map((e) => `${indent}  ${e}`).join('\n')}\n${indent}}` : '{\n' + `${indent}  [_ in never]: never\n${indent}}`;
}

/**
 * Enum and composite type names → their place in Database, for every schema generated (the current schema's own
 * names first when two schemas share one), so a column of type `address` reads Database["public"]["CompositeTypes"]["address"].
 */
function namedTypes(cat: Catalog, schemas: string[], current: string): Map<string, string> {
  const ref = (schema: string, kind: string, name: string) => `Database[${JSON.stringify(schema)}][${JSON.stringify(kind)}][${JSON.stringify(name)}]`;
  const named = new Map<string, string>();
  const bySchema = [current, ...schemas.filter((s) => s !== current)];
  for (const schema of [...bySchema].reverse()) {
    for (const e of cat.enums.filter((x) => x.schema === schema)) named.set(e.name, ref(schema, 'Enums', e.name));
    for (const t of cat.composites.filter((x) => x.schema === schema)) named.set(t.name, ref(schema, 'CompositeTypes', t.name));
  }
  return named;
}

export function generateTypes(cat: Catalog, schemas: string[]): string {
  const out: string[] = [
    'export type Json =\n  | string\n  | number\n  | boolean\n  | null\n  | { [key: string]: Json | undefined }\n  | Json[]\n',
    'export type Database = {',
  ];
  for (const schema of schemas) {
    const enums = namedTypes(cat, schemas, schema);
    const rel = (kinds: string) => cat.relations.filter((r) => r.schema === schema && kinds.includes(r.kind));
    const tables = rel('rpf').map((r) => {
      const cols = r.columns;
      const row = cols.map((c) => `${quote(c.name)}: ${columnType(c, enums)}`);
      const insert = cols.filter((c) => !c.generated && !c.identity)
        .map((c) => `${quote(c.name)}${c.nullable || c.has_default ? '?' : ''}: ${columnType(c, enums)}`);
      const update = cols.filter((c) => !c.generated && !c.identity).map((c) => `${quote(c.name)}?: ${columnType(c, enums)}`);
      const rels = r.relationships.map((x) => JSON.stringify(x).replace(/"(\w+)":/g, '$1: '));
      return `${quote(r.name)}: {\n        Row: ${block(row, '        ')}\n        Insert: ${block(insert, '        ')}\n        Update: ${block(update, '        ')}\n        Relationships: [${rels.join(', ')}]\n      }`;
    });
    const views = rel('vm').map((r) => `${quote(r.name)}: {\n        Row: ${block(r.columns.map((c) => `${quote(c.name)}: ${tsType(c.udt, c.is_array, enums)} | null`), '        ')}\n        Relationships: []\n      }`);
    const functions = cat.functions.filter((f) => f.schema === schema).map((f) => {
      const args = f.args.map((a) => `${quote(a.name)}${a.has_default ? '?' : ''}: ${tsType(a.type.replace(/^_/, ''), a.type.startsWith('_'), enums)}`);
      const returns = tsType(f.return_type.replace(/^_/, ''), f.return_type.startsWith('_'), enums) + (f.returns_set ? '[]' : '');
      return `${quote(f.name)}: {\n        Args: ${args.length ? block(args, '        ') : 'Record<PropertyKey, never>'}\n        Returns: ${returns}\n      }`;
    });
    const enumTypes = cat.enums.filter((e) => e.schema === schema).map((e) => `${quote(e.name)}: ${e.labels.map((l) => JSON.stringify(l)).join(' | ')}`);
    // as postgres-meta: every attribute of a composite type may be null
    const composites = cat.composites.filter((t) => t.schema === schema).map((t) =>
      `${quote(t.name)}: ${block(t.attributes.map((a) => `${quote(a.name)}: ${tsType(a.udt, a.is_array, enums)} | null`), '      ')}`);
    out.push(`  ${quote(schema)}: {`,
      `    Tables: ${block(tables, '    ')}`,
      `    Views: ${block(views, '    ')}`,
      `    Functions: ${block(functions, '    ')}`,
      `    Enums: ${block(enumTypes, '    ')}`,
      `    CompositeTypes: ${block(composites, '    ')}`,
      '  }');
  }
  out.push('}', '', HELPERS);
  return out.join('\n');
}

const HELPERS = `type DefaultSchema = Database[Extract<keyof Database, "public">]

export type Tables<T extends keyof DefaultSchema["Tables"] | keyof DefaultSchema["Views"]> =
  (DefaultSchema["Tables"] & DefaultSchema["Views"])[T] extends { Row: infer R } ? R : never

export type TablesInsert<T extends keyof DefaultSchema["Tables"]> =
  DefaultSchema["Tables"][T] extends { Insert: infer I } ? I : never

export type TablesUpdate<T extends keyof DefaultSchema["Tables"]> =
  DefaultSchema["Tables"][T] extends { Update: infer U } ? U : never

export type Enums<T extends keyof DefaultSchema["Enums"]> = DefaultSchema["Enums"][T]

export type CompositeTypes<T extends keyof DefaultSchema["CompositeTypes"]> = DefaultSchema["CompositeTypes"][T]
`;
