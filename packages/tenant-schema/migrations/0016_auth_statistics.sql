-- The auth service keeps the planner statistics of the auth tables in step with their growth (its
-- jobs/statistics.ts says why: a prepared statement keeps a plan made for a table's size at the time until the
-- table is analyzed again). Analyzing takes the table's owner, which the service's role (basalt_admin) is not:
-- this function, run as its owner, analyzes the auth tables that hold more than twice the rows they held at their
-- last analyze, and at least 1,000 more (never analyzed: as if they held none), skipping any that a vacuum or
-- another analyze holds. Growth, not changes: a small table updated often (sessions, touched by every refresh)
-- keeps a plan that fits it. It returns the tables it analyzed. Only basalt_admin may call it.
create function auth.analyze_outgrown() returns text[]
  language plpgsql security definer set search_path = '' as $$
declare
  outgrown text[];
  t text;
begin
  select coalesce(array_agg(c.relname::text order by c.relname), '{}') into outgrown
    from pg_catalog.pg_class c
   where c.relnamespace = 'auth'::regnamespace and c.relkind = 'r'
     and pg_catalog.pg_stat_get_live_tuples(c.oid) > greatest(c.reltuples, 0) + greatest(c.reltuples, 1000);
  foreach t in array outgrown loop
    execute pg_catalog.format('analyze (skip_locked) auth.%I', t);
  end loop;
  return outgrown;
end $$;
revoke all on function auth.analyze_outgrown() from public;
grant execute on function auth.analyze_outgrown() to basalt_admin;
