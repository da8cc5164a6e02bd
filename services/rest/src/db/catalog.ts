// Catalog queries that build the schema cache: relations, columns, keys and functions of the exposed schemas.
// They read only pg_catalog, so the login needs no role switch to run them.
import type pg from 'pg';

export interface CatalogColumn { name: string; type: string; udt: string; nullable: boolean; hasDefault: boolean; generated: boolean }
export interface CatalogRelation { schema: string; name: string; kind: string; comment: string | null; columns: CatalogColumn[] }
export interface CatalogConstraint { schema: string; table: string; name: string; type: 'p' | 'u' | 'f'; columns: string[]; refSchema: string | null; refTable: string | null; refColumns: string[] }
export interface CatalogArg { name: string; type: string; mode: string; hasDefault: boolean }
export interface CatalogFunction {
  schema: string; name: string; args: CatalogArg[]; returnType: string; returnsSet: boolean;
  /** the relation a composite return type belongs to, if any */
  returnRelSchema: string | null; returnRelName: string | null; returnsComposite: boolean; volatility: string; variadic: boolean; nDefaults: number;
  /**
   * the function's own statement_timeout (`create function … set statement_timeout = '4min'`, Supabase's way to
   * let one function run longer than its callers' role allows), in ms, 0 for none; null when it sets none
   */
  timeoutMs?: number | null;
}

const RELATIONS = `
select n.nspname as schema, c.relname as name, c.relkind as kind, obj_description(c.oid, 'pg_class') as comment,
  coalesce((select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'udt', t.typname,
      'nullable', not a.attnotnull, 'hasDefault', a.atthasdef or a.attidentity <> '', 'generated', a.attgenerated <> '' or a.attidentity = 'a') order by a.attnum)
    from pg_attribute a join pg_type t on t.oid = a.atttypid
    where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]') as columns
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'f', 'p')`;

const CONSTRAINTS = `
select n.nspname as schema, c.relname as table, k.conname as name, k.contype as type,
  array(select a.attname from unnest(k.conkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i)::text[] as columns,
  fn.nspname as "refSchema", fc.relname as "refTable",
  array(select a.attname from unnest(k.confkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n order by u.i)::text[] as "refColumns"
from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
left join pg_class fc on fc.oid = k.confrelid left join pg_namespace fn on fn.oid = fc.relnamespace
where k.contype in ('p', 'u', 'f') and n.nspname = any($1)
order by k.conname`;

const FUNCTIONS = `
select n.nspname as schema, p.proname as name, p.pronargdefaults as "nDefaults", p.proretset as "returnsSet", p.provolatile as volatility, p.provariadic <> 0 as variadic,
  format_type(p.prorettype, null) as "returnType", rn.nspname as "returnRelSchema", rc.relname as "returnRelName",
  (rt.typtype = 'c' or (rt.typtype = 'p' and rt.typname = 'record')) as "returnsComposite",
  coalesce((select json_agg(json_build_object('name', coalesce(p.proargnames[i], ''), 'type', format_type(coalesce(p.proallargtypes[i], p.proargtypes[i - 1]), null),
      'mode', coalesce(p.proargmodes[i]::text, 'i'), 'hasDefault', false) order by i)
    from generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) i), '[]') as args,
  (select substr(s, length('statement_timeout=') + 1) from unnest(p.proconfig) s where s like 'statement\\_timeout=%' limit 1) as "ownTimeout"
from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_type rt on rt.oid = p.prorettype
left join pg_class rc on rc.oid = rt.typrelid left join pg_namespace rn on rn.oid = rc.relnamespace
where n.nspname = any($1) and p.prokind = 'f'`;

// Which base-table columns each view reads (through its rewrite rule's dependencies); a view column with the same
// name is taken to be that column, which is how relationships of the base tables carry over to views.
const VIEW_COLUMNS = `
select distinct vn.nspname as "viewSchema", v.relname as view, tn.nspname as "tableSchema", t.relname as table, a.attname as column
from pg_rewrite r join pg_class v on v.oid = r.ev_class and v.relkind in ('v', 'm')
join pg_namespace vn on vn.oid = v.relnamespace
join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid and d.refclassid = 'pg_class'::regclass and d.refobjsubid > 0 and d.refobjid <> v.oid
join pg_class t on t.oid = d.refobjid join pg_namespace tn on tn.oid = t.relnamespace
join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
where vn.nspname = any($1)`;

export interface CatalogViewColumn { viewSchema: string; view: string; tableSchema: string; table: string; column: string }

export async function loadCatalog(client: pg.Pool | pg.ClientBase, schemas: string[]) {
  const [rels, cons, fns, views] = await Promise.all([
    client.query<CatalogRelation>(RELATIONS, [schemas]),
    client.query<CatalogConstraint>(CONSTRAINTS, [schemas]),
    client.query<CatalogFunction>(FUNCTIONS, [schemas]),
    client.query<CatalogViewColumn>(VIEW_COLUMNS, [schemas]),
  ]);
  for (const f of fns.rows as (CatalogFunction & { ownTimeout?: string | null })[]) {
    f.timeoutMs = f.ownTimeout == null ? null : timeSettingMs(f.ownTimeout);
    delete f.ownTimeout;
    // Defaults belong to the last nDefaults input arguments.
    const inputs = f.args.filter((a) => a.mode !== 'o' && a.mode !== 't');
    inputs.slice(inputs.length - f.nDefaults).forEach((a) => (a.hasDefault = f.nDefaults > 0));
  }
  return { relations: rels.rows, constraints: cons.rows, functions: fns.rows, viewColumns: views.rows };
}
export type Catalog = Awaited<ReturnType<typeof loadCatalog>>;

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A time setting as Postgres reads it (a number in ms, or with a unit: '4min', '30s'); null if it cannot be read. */
export function timeSettingMs(value: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/.exec(value);
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!) : null;
}
