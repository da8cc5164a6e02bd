// Creates and drops a project's database and login role on its cluster. Runs as the cluster's admin login.
// CREATE/DROP DATABASE cannot run inside a transaction, so each step is its own statement and a failed
// creation is undone step by step.
import type pg from 'pg';
import { ident, literal, withClient } from '@basalt/db';
import { localeOptions, type DatabaseLocale } from '@basalt/tenant-schema';

export interface TenantDatabase {
  dbName: string;
  dbRole: string;
  password: string;
  connectionLimit: number;
}

export const tenantNames = (ref: string) => ({ dbName: `proj_${ref}`, dbRole: `proj_${ref}_authenticator` });

/** the cluster's admin login on its maintenance database (postgres), whichever database its URL names */
export function adminDatabaseUrl(adminUrl: string): string {
  const url = new URL(adminUrl);
  url.pathname = '/postgres';
  return url.toString();
}

export async function onCluster<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  return withClient(adminDatabaseUrl(adminUrl), fn);
}

/**
 * `from` is the template a new project's database copies, or (a move) the locale of an empty one: a moved database
 * keeps its text order whatever the target cluster's default.
 */
export async function createTenantDatabase(adminUrl: string, from: string | DatabaseLocale, t: TenantDatabase): Promise<void> {
  await onCluster(adminUrl, async (c) => {
    const db = ident(t.dbName);
    const role = ident(t.dbRole);
    // NOINHERIT: the login itself holds no privilege; it must SET ROLE to one the request is entitled to.
    await c.query(`create role ${role} login noinherit connection limit ${t.connectionLimit} password ${literal(t.password)}`);
    try {
      await c.query(`grant anon, authenticated, service_role, basalt_admin to ${role}`);
      await c.query(typeof from === 'string' ? `create database ${db} template ${ident(from)}` : `create database ${db} template template0 ${localeOptions(from)}`);
      // as Supabase's databases: extensions (pgcrypto, pgvector) resolve unqualified (see tenant migration 0008)
      await c.query(`alter database ${db} set search_path = "$user", public, extensions`);
      // Only this project's login may connect: the isolation boundary between projects on one cluster.
      await c.query(`revoke all on database ${db} from public`);
      await c.query(`grant connect, temporary on database ${db} to ${role}`);
      // the owner (basalt_admin, behind the SQL API) may create schemas and trusted extensions (tenant migration 0010)
      await c.query(`grant create on database ${db} to basalt_admin`);
    } catch (e) {
      await c.query(`drop database if exists ${db} with (force)`).catch(() => undefined);
      await c.query(`drop role if exists ${role}`).catch(() => undefined);
      throw e;
    }
  });
}

export async function dropTenantDatabase(adminUrl: string, dbName: string, dbRole: string): Promise<void> {
  await onCluster(adminUrl, async (c) => {
    await c.query(`drop database if exists ${ident(dbName)} with (force)`);
    await c.query(`drop role if exists ${ident(dbRole)}`);
  });
}
