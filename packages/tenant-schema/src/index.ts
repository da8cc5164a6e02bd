// The cluster-wide roles and the template database that every project database is cloned from.
// Tenant migrations (this package's migrations/) are applied to the template and to every existing project.
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ident, migrate, readMigrations, withClient } from '@basalt/db';
import { createWithProjectLocale, databaseLocale, isProjectLocale } from './locale.js';

export { databaseLocale, localeOptions, type DatabaseLocale } from './locale.js';

export const TENANT_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Roles shared by every project database on a cluster. They are NOLOGIN: only a project's own authenticator,
 *  which alone may CONNECT to its database, can SET ROLE to them, so sharing the names shares no data. */
const CLUSTER_ROLES_SQL = `
do $$
declare r record;
begin
  for r in select * from (values
      ('anon', 'nologin noinherit'),
      ('authenticated', 'nologin noinherit'),
      ('service_role', 'nologin noinherit bypassrls'),
      ('basalt_admin', 'nologin noinherit bypassrls')) as t(name, attrs) loop
    if not exists (select 1 from pg_roles where rolname = r.name) then
      begin
        execute format('create role %I %s', r.name, r.attrs);
      exception when duplicate_object or unique_violation then null; -- created concurrently
      end;
    end if;
  end loop;
end $$;`;

export async function ensureClusterRoles(admin: pg.ClientBase): Promise<void> {
  await admin.query(CLUSTER_ROLES_SQL);
}

const withDb = (url: string, db: string) => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
};

/**
 * Creates (once) and migrates the template database; returns the migrations it applied. A template of another
 * locale (made before project databases had one of their own, see locale.ts) is made again, empty, unless someone
 * is connected to it (another replica migrating it): then it stays for now, and `onKept` hears why.
 */
export async function prepareTemplate(adminUrl: string, templateName: string, onKept?: (why: string) => void): Promise<string[]> {
  await withClient(withDb(adminUrl, 'postgres'), async (c) => {
    await ensureClusterRoles(c);
    const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [templateName]);
    let create = !rowCount;
    if (rowCount && !isProjectLocale(await databaseLocale(c, templateName))) {
      create = await c.query(`drop database ${ident(templateName)}`).then(() => true, (e: { code?: string; message: string }) => {
        if (e.code !== '55006' && e.code !== '3D000') throw e; // in use; dropped meanwhile by another replica
        if (e.code === '55006') onKept?.(`the tenant template has another locale and is in use, so it is kept: ${e.message}`);
        return e.code === '3D000';
      });
    }
    if (create) {
      await createWithProjectLocale(c, templateName).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e;
      });
      await c.query(`revoke all on database ${ident(templateName)} from public`);
    }
  });
  const migrations = await readMigrations(TENANT_MIGRATIONS_DIR);
  return withClient(withDb(adminUrl, templateName), (c) => migrate(c, 'tenant', migrations));
}

/** Brings an existing project database up to the current tenant schema. */
export async function migrateTenantDatabase(adminUrl: string, dbName: string): Promise<string[]> {
  const migrations = await readMigrations(TENANT_MIGRATIONS_DIR);
  return withClient(withDb(adminUrl, dbName), (c) => migrate(c, 'tenant', migrations));
}
