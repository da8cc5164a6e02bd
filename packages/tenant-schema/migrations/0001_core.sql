-- The schema every project database starts with: tenant schemas, the auth.* helpers RLS policies use,
-- default grants in public, RLS on by default for new tables, and schema-cache reload notifications.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
do $$ begin
  if exists (select 1 from pg_available_extensions where name = 'vector') then
    create extension if not exists vector with schema extensions;
  end if;
end $$;

create schema if not exists auth;
create schema if not exists storage;
create schema if not exists memory;
create schema if not exists documents;
create schema if not exists realtime;
create schema if not exists basalt;

alter schema public owner to basalt_admin;
grant usage on schema public, extensions, auth, storage to anon, authenticated, service_role;
grant all on schema auth, storage, memory, documents, realtime, extensions to basalt_admin;
grant usage on schema basalt to basalt_admin;

create or replace function auth.uid() returns uuid language sql stable as $$
  select nullif(coalesce(current_setting('request.jwt.claim.sub', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'sub'), '')::uuid
$$;
create or replace function auth.role() returns text language sql stable as $$
  select nullif(coalesce(current_setting('request.jwt.claim.role', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'role'), '')::text
$$;
create or replace function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;
grant execute on function auth.uid(), auth.role(), auth.jwt() to anon, authenticated, service_role, basalt_admin;

-- What the project's owner (basalt_admin, the SQL API's role) creates in public is usable by the API roles;
-- RLS decides which rows.
alter default privileges for role basalt_admin in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role basalt_admin in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges for role basalt_admin in schema public grant execute on functions to anon, authenticated, service_role;

-- RLS on by default: every table created in public starts with row level security enabled,
-- so a table is invisible to anon and authenticated until a policy says otherwise.
create or replace function basalt.enable_rls_on_new_tables() returns event_trigger language plpgsql as $$
declare obj record;
begin
  for obj in select * from pg_event_trigger_ddl_commands()
             where object_type = 'table' and schema_name = 'public' loop
    execute format('alter table %s enable row level security', obj.object_identity);
  end loop;
end $$;
create event trigger basalt_enable_rls on ddl_command_end
  when tag in ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
  execute function basalt.enable_rls_on_new_tables();

-- Any DDL tells every REST replica to reload its schema cache (PostgREST's channel and payload).
create or replace function basalt.notify_schema_change() returns event_trigger language plpgsql as $$
begin
  perform pg_notify('pgrst', 'reload schema');
end $$;
create event trigger basalt_schema_change_ddl on ddl_command_end execute function basalt.notify_schema_change();
create event trigger basalt_schema_change_drop on sql_drop execute function basalt.notify_schema_change();
