-- The services keep the planner statistics of their tables in step with the tables' growth (@basalt/db's
-- statistics.ts says why: a new project's table grows far past the size its plans were made for before autovacuum
-- first analyzes it). Analyzing takes a table's owner, which the services' roles are not for every table (auth's
-- belong to the cluster admin): this function, run as its owner, analyzes the tables of one of the platform's
-- schemas that hold more than twice the rows they held at their last analyze, and at least 1,000 more (never
-- analyzed: as if they held none), skipping any that a vacuum or another analyze holds. Growth, not changes: a
-- small table updated often (auth.sessions, touched by every refresh) keeps a plan that fits it. It returns the
-- tables it analyzed. Only basalt_admin may call it.
create function basalt.analyze_outgrown(schema_name text) returns text[]
  language plpgsql security definer set search_path = '' as $$
declare
  outgrown text[];
  t text;
begin
  if schema_name not in ('auth', 'storage', 'memory', 'documents', 'realtime') then
    raise exception 'not a platform schema: %', schema_name using errcode = '42501';
  end if;
  select coalesce(array_agg(c.relname::text order by c.relname), '{}') into outgrown
    from pg_catalog.pg_class c
   where c.relnamespace = schema_name::regnamespace and c.relkind = 'r'
     and pg_catalog.pg_stat_get_live_tuples(c.oid) > greatest(c.reltuples, 0) + greatest(c.reltuples, 1000);
  foreach t in array outgrown loop
    execute pg_catalog.format('analyze (skip_locked) %I.%I', schema_name, t);
  end loop;
  return outgrown;
end $$;
revoke all on function basalt.analyze_outgrown(text) from public;
grant execute on function basalt.analyze_outgrown(text) to basalt_admin;
