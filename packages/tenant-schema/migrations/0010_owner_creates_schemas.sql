-- The project owner (basalt_admin, as which the platform SQL API runs) may create schemas and trusted extensions
-- in its own database, as a Supabase project's postgres role can. The role has no login, and only the project's
-- own authenticator may connect to its database, so the grant reaches no other project. New project databases
-- get it when the platform creates them (a database's grants are not copied from its template).
do $$
begin
  execute format('grant create on database %I to basalt_admin', current_database());
end $$;
