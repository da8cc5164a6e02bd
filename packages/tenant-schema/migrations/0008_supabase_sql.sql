-- SQL written for Supabase runs unchanged:
-- 1. the token columns of GoTrue's auth.users, with GoTrue's types and defaults (seed scripts insert users with
--    confirmation_token = '' and so on; the auth service keeps its own tokens in auth.one_time_tokens);
-- 2. extensions on the search path, as Supabase's databases have it, so crypt(), gen_salt() and the other
--    functions of pgcrypto (and pgvector's types, when installed) resolve unqualified. New project databases get
--    the same setting when the platform creates them (a database setting is not copied from its template).
alter table auth.users
  add column if not exists confirmation_token varchar(255) default '',
  add column if not exists recovery_token varchar(255) default '',
  add column if not exists email_change_token_new varchar(255) default '',
  add column if not exists email_change_token_current varchar(255) default '',
  add column if not exists email_change_confirm_status smallint default 0 check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
  add column if not exists phone_change_token varchar(255) default '',
  add column if not exists reauthentication_token varchar(255) default '';

do $$
begin
  execute format('alter database %I set search_path = "$user", public, extensions', current_database());
end $$;
