// Security and performance lints over the exposed schemas, in the shape of Supabase's advisors (splinter):
// {name, title, level, facing, categories, description, detail, remediation, metadata, cache_key}.
import type pg from 'pg';

export interface Lint {
  name: string;
  title: string;
  level: 'ERROR' | 'WARN' | 'INFO';
  facing: 'EXTERNAL';
  categories: ('SECURITY' | 'PERFORMANCE')[];
  description: string;
  detail: string;
  remediation: string;
  metadata: Record<string, unknown>;
  cache_key: string;
}

interface Rule {
  name: string;
  title: string;
  level: Lint['level'];
  category: 'SECURITY' | 'PERFORMANCE';
  description: string;
  /** rows of {schema, name, …} each one finding */
  sql: string;
  detail: (r: Record<string, any>) => string;
  remediation: (r: Record<string, any>) => string;
}

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

const RULES: Rule[] = [
  {
    name: 'rls_disabled_in_public', title: 'RLS Disabled in Public', level: 'ERROR', category: 'SECURITY',
    description: 'Tables in an exposed schema without row level security: anyone with the anon key reads and writes every row through the REST API.',
    sql: `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p') and n.nspname = any($1::text[]) and not c.relrowsecurity`,
    detail: (r) => `Table \`${r.schema}.${r.name}\` is public, but RLS has not been enabled.`,
    remediation: (r) => `alter table ${q(r.schema)}.${q(r.name)} enable row level security; then add policies for the rows each role may see.`,
  },
  {
    name: 'rls_enabled_no_policy', title: 'RLS Enabled No Policy', level: 'INFO', category: 'SECURITY',
    description: 'Tables with RLS enabled and no policy: every row is invisible to anon and authenticated callers.',
    sql: `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p') and n.nspname = any($1::text[]) and c.relrowsecurity
            and not exists (select 1 from pg_policy p where p.polrelid = c.oid)`,
    detail: (r) => `Table \`${r.schema}.${r.name}\` has RLS enabled, but no policies exist`,
    remediation: (r) => `create policy … on ${q(r.schema)}.${q(r.name)} for select to authenticated using (…); or disable RLS if the table is not exposed.`,
  },
  {
    name: 'rls_references_user_metadata', title: 'RLS references user metadata', level: 'ERROR', category: 'SECURITY',
    description: 'Policies that read user_metadata from the JWT: users can edit their own user_metadata, so it must not decide access.',
    sql: `select n.nspname as schema, c.relname as name, p.polname as policy from pg_policy p join pg_class c on c.oid = p.polrelid
          join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = any($1::text[])
            and (coalesce(pg_get_expr(p.polqual, p.polrelid), '') || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')) ilike '%user_metadata%'`,
    detail: (r) => `Table \`${r.schema}.${r.name}\` has a row level security policy \`${r.policy}\` that references user_metadata.`,
    remediation: () => 'Decide access with auth.uid() or app_metadata (which only the service role can change), not user_metadata.',
  },
  {
    // The project owner (basalt_admin, as which the SQL API and migrations run) bypasses RLS, and what it creates in
    // public is readable by anon and authenticated (tenant migration 0001's default privileges): a plain view over
    // a table with policies hands every row to anyone with the anon key. security_invoker (Postgres 15) makes the
    // view read as its caller.
    name: 'security_definer_view', title: 'Security Definer View', level: 'ERROR', category: 'SECURITY',
    description: 'Views that read with their owner\'s rights rather than the caller\'s: the row level security of the tables under them does not apply to the API roles that can select from them.',
    sql: `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind = 'v' and n.nspname = any($1::text[])
            and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('authenticated', c.oid, 'select'))
            and not exists (select 1 from unnest(coalesce(c.reloptions, '{}')) o where lower(o) in ('security_invoker=true', 'security_invoker=on', 'security_invoker=1', 'security_invoker=yes'))
            and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')`,
    detail: (r) => `View \`${r.schema}.${r.name}\` is defined with the SECURITY DEFINER property`,
    remediation: (r) => `alter view ${q(r.schema)}.${q(r.name)} set (security_invoker = true); or revoke select on it from anon, authenticated.`,
  },
  {
    name: 'materialized_view_in_api', title: 'Materialized View in API', level: 'WARN', category: 'SECURITY',
    description: 'Materialized views the API roles can select from: they hold a copy of their rows, and no row level security applies to them.',
    sql: `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind = 'm' and n.nspname = any($1::text[])
            and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('authenticated', c.oid, 'select'))
            and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')`,
    detail: (r) => `Materialized view \`${r.schema}.${r.name}\` is selectable by anon or authenticated roles`,
    remediation: (r) => `revoke select on ${q(r.schema)}.${q(r.name)} from anon, authenticated; or move it out of the exposed schemas.`,
  },
  {
    name: 'function_search_path_mutable', title: 'Function Search Path Mutable', level: 'WARN', category: 'SECURITY',
    description: 'SECURITY DEFINER functions without a fixed search_path: a caller can shadow the objects they use and run code as the owner.',
    sql: `select n.nspname as schema, p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = any($1::text[]) and p.prosecdef
            and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) cfg where cfg like 'search_path=%')
            and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')`,
    detail: (r) => `Function \`${r.schema}.${r.name}\` has a role mutable search_path`,
    remediation: (r) => `alter function ${q(r.schema)}.${q(r.name)} set search_path = ''; and schema-qualify the objects it uses.`,
  },
  {
    name: 'unindexed_foreign_keys', title: 'Unindexed foreign keys', level: 'INFO', category: 'PERFORMANCE',
    description: 'Foreign keys without a covering index: joins and cascading deletes scan the whole table.',
    sql: `select n.nspname as schema, c.relname as name, fk.conname as fkey,
                 (select array_agg(a.attname order by k.o) from unnest(fk.conkey) with ordinality k(n, o)
                    join pg_attribute a on a.attrelid = c.oid and a.attnum = k.n)::text[] as columns
          from pg_constraint fk join pg_class c on c.oid = fk.conrelid join pg_namespace n on n.oid = c.relnamespace
          where fk.contype = 'f' and n.nspname = any($1::text[])
            and not exists (select 1 from pg_index i where i.indrelid = fk.conrelid
              and (i.indkey::int2[])[0:cardinality(fk.conkey) - 1] @> fk.conkey and (i.indkey::int2[])[0:cardinality(fk.conkey) - 1] <@ fk.conkey)`,
    detail: (r) => `Table \`${r.schema}.${r.name}\` has a foreign key \`${r.fkey}\` without a covering index.`,
    remediation: (r) => `create index on ${q(r.schema)}.${q(r.name)} (${(r.columns as string[]).map(q).join(', ')});`,
  },
  {
    name: 'unused_index', title: 'Unused Index', level: 'INFO', category: 'PERFORMANCE',
    description: 'Indexes that have never been used by a query cost writes and space.',
    sql: `select s.schemaname as schema, s.relname as name, s.indexrelname as index from pg_stat_user_indexes s
          join pg_index i on i.indexrelid = s.indexrelid
          where s.schemaname = any($1::text[]) and s.idx_scan = 0 and not i.indisunique and not i.indisprimary
            and not exists (select 1 from pg_constraint c where c.conindid = s.indexrelid)`,
    detail: (r) => `Index \`${r.index}\` on table \`${r.schema}.${r.name}\` has not been used`,
    remediation: (r) => `If queries will not need it, drop index ${q(r.schema)}.${q(r.index)};`,
  },
];

const METADATA_TYPE: Record<string, string> = {
  function_search_path_mutable: 'function', security_definer_view: 'view', materialized_view_in_api: 'materialized view',
};

export async function runAdvisors(c: pg.Client, type: 'security' | 'performance', schemas: string[]): Promise<Lint[]> {
  const lints: Lint[] = [];
  for (const rule of RULES.filter((r) => r.category === type.toUpperCase())) {
    const { rows } = await c.query(rule.sql, [schemas]);
    for (const r of rows) {
      lints.push({
        name: rule.name, title: rule.title, level: rule.level, facing: 'EXTERNAL', categories: [rule.category],
        description: rule.description, detail: rule.detail(r), remediation: rule.remediation(r),
        metadata: { schema: r.schema, name: r.name, type: METADATA_TYPE[rule.name] ?? 'table' },
        cache_key: [rule.name, r.schema, r.name, r.policy ?? r.fkey ?? r.index ?? ''].filter(Boolean).join('_'),
      });
    }
  }
  return lints;
}
