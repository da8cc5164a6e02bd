// Catalog reads for list_tables, list_extensions, the schema resource and type generation: one query each, by
// schema list, from pg_catalog (information_schema hides objects the owner role cannot use).
import type pg from 'pg';

export async function listTables(c: pg.Client, schemas: string[]) {
  const { rows } = await c.query(`
    select n.nspname as schema, cl.relname as name, cl.relrowsecurity as rls_enabled, cl.relforcerowsecurity as rls_forced,
      greatest(cl.reltuples, 0)::bigint as rows_estimate, obj_description(cl.oid, 'pg_class') as comment,
      (select coalesce(json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
          'nullable', not a.attnotnull, 'default', pg_get_expr(d.adbin, d.adrelid),
          'identity', a.attidentity <> '', 'generated', a.attgenerated <> '') order by a.attnum), '[]')
        from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attrelid = cl.oid and a.attnum > 0 and not a.attisdropped) as columns,
      (select coalesce(json_agg(a.attname order by k.ord), '[]') from pg_constraint pk
         cross join unnest(pk.conkey) with ordinality k(attnum, ord) join pg_attribute a on a.attrelid = cl.oid and a.attnum = k.attnum
        where pk.conrelid = cl.oid and pk.contype = 'p') as primary_key,
      (select coalesce(json_agg(json_build_object('name', fk.conname, 'definition', pg_get_constraintdef(fk.oid),
          'target', fk.confrelid::regclass::text)), '[]') from pg_constraint fk where fk.conrelid = cl.oid and fk.contype = 'f') as foreign_keys,
      (select coalesce(json_agg(json_build_object('name', po.polname, 'command',
          case po.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end,
          'permissive', po.polpermissive,
          'roles', (select coalesce(array_agg(case when r = 0 then 'public' else pg_get_userbyid(r) end), '{}') from unnest(po.polroles) r),
          'using', pg_get_expr(po.polqual, po.polrelid), 'with_check', pg_get_expr(po.polwithcheck, po.polrelid))), '[]')
        from pg_policy po where po.polrelid = cl.oid) as policies
    from pg_class cl join pg_namespace n on n.oid = cl.relnamespace
    where cl.relkind in ('r', 'p') and n.nspname = any($1::text[])
    order by n.nspname, cl.relname`, [schemas]);
  return rows;
}

export async function listExtensions(c: pg.Client) {
  const { rows } = await c.query(`
    select a.name, e.extversion as installed_version, a.default_version, n.nspname as schema, a.comment
    from pg_available_extensions a left join pg_extension e on e.extname = a.name left join pg_namespace n on n.oid = e.extnamespace
    order by (e.extversion is null), a.name`);
  return rows;
}

export interface ColumnInfo { name: string; type: string; udt: string; nullable: boolean; has_default: boolean; identity: boolean; generated: boolean; is_array: boolean }

/** What type generation needs: relations with columns, relationships, functions and enums of the schemas. */
export async function typeCatalog(c: pg.Client, schemas: string[]) {
  const relations = (await c.query(`
    select n.nspname as schema, cl.relname as name, cl.relkind as kind,
      (select coalesce(json_agg(json_build_object('name', a.attname, 'udt', coalesce(et.typname, t.typname), 'type', format_type(a.atttypid, a.atttypmod),
          'nullable', not a.attnotnull, 'has_default', a.atthasdef or a.attidentity <> '', 'identity', a.attidentity = 'a',
          'generated', a.attgenerated <> '', 'is_array', t.typcategory = 'A') order by a.attnum), '[]')
        from pg_attribute a join pg_type t on t.oid = a.atttypid left join pg_type et on et.oid = t.typelem and t.typcategory = 'A'
        where a.attrelid = cl.oid and a.attnum > 0 and not a.attisdropped) as columns,
      (select coalesce(json_agg(json_build_object('foreignKeyName', fk.conname,
          'columns', (select array_agg(a.attname order by k.o) from unnest(fk.conkey) with ordinality k(n, o) join pg_attribute a on a.attrelid = fk.conrelid and a.attnum = k.n),
          'isOneToOne', exists (select 1 from pg_index i where i.indrelid = fk.conrelid and i.indisunique and (i.indkey::int2[])::int2[] @> fk.conkey and (i.indkey::int2[])::int2[] <@ fk.conkey),
          'referencedRelation', rc.relname,
          'referencedColumns', (select array_agg(a.attname order by k.o) from unnest(fk.confkey) with ordinality k(n, o) join pg_attribute a on a.attrelid = fk.confrelid and a.attnum = k.n))), '[]')
        from pg_constraint fk join pg_class rc on rc.oid = fk.confrelid where fk.conrelid = cl.oid and fk.contype = 'f') as relationships
    from pg_class cl join pg_namespace n on n.oid = cl.relnamespace
    where cl.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname = any($1::text[])
    order by n.nspname, cl.relname`, [schemas])).rows;
  const functions = (await c.query(`
    select n.nspname as schema, p.proname as name, p.proretset as returns_set, rt.typname as return_type,
      coalesce((select json_agg(json_build_object('name', coalesce(p.proargnames[i], 'arg' || i), 'type', t.typname, 'has_default', i > p.pronargs - p.pronargdefaults) order by i)
        from unnest(p.proargtypes::oid[]) with ordinality a(type_oid, i) join pg_type t on t.oid = a.type_oid), '[]') as args
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_type rt on rt.oid = p.prorettype
    where n.nspname = any($1::text[]) and p.prokind = 'f' and rt.typname not in ('trigger', 'event_trigger')
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
    order by n.nspname, p.proname`, [schemas])).rows;
  const enums = (await c.query(`
    select n.nspname as schema, t.typname as name, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
    from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = any($1::text[]) group by n.nspname, t.typname order by 1, 2`, [schemas])).rows;
  // composite types made with CREATE TYPE … AS (…) (relkind 'c'), not the row types every table has
  const composites = (await c.query(`
    select n.nspname as schema, t.typname as name,
      coalesce(json_agg(json_build_object('name', a.attname, 'udt', coalesce(et.typname, at.typname), 'is_array', at.typcategory = 'A')
        order by a.attnum) filter (where a.attname is not null), '[]') as attributes
    from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_class cl on cl.oid = t.typrelid and cl.relkind = 'c'
      left join pg_attribute a on a.attrelid = cl.oid and a.attnum > 0 and not a.attisdropped
      left join pg_type at on at.oid = a.atttypid left join pg_type et on et.oid = at.typelem and at.typcategory = 'A'
    where t.typtype = 'c' and n.nspname = any($1::text[])
      and not exists (select 1 from pg_depend d where d.objid = t.oid and d.deptype = 'e')
    group by n.nspname, t.typname order by 1, 2`, [schemas])).rows;
  return { relations, functions, enums, composites } as {
    relations: { schema: string; name: string; kind: string; columns: ColumnInfo[]; relationships: Record<string, unknown>[] }[];
    functions: { schema: string; name: string; returns_set: boolean; return_type: string; args: { name: string; type: string; has_default: boolean }[] }[];
    enums: { schema: string; name: string; labels: string[] }[];
    composites: { schema: string; name: string; attributes: { name: string; udt: string; is_array: boolean }[] }[];
  };
}
