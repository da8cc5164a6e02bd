// For tests of a service's SQL: a scratch project database with the tenant schema, made before the file's tests and dropped
// after them, and a pool of two connections on it that counts its checkouts (a batch is one).
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import { ensureClusterRoles, migrateTenantDatabase } from '@basalt/tenant-schema';

export interface TestDatabase {
  /** the scratch database's URL, for connections of the test's own */
  url: string;
  pool: pg.Pool;
  checkouts: number;
}

export function testDatabase(prefix: string): TestDatabase {
  const base = new URL(process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const at = (db: string) => Object.assign(new URL(base.toString()), { pathname: `/${db}` }).toString();
  const admin = new pg.Client({ connectionString: at('postgres') });
  const t = { url: at(name), checkouts: 0 } as TestDatabase;
  before(async () => {
    await admin.connect();
    await ensureClusterRoles(admin);
    await admin.query(`create database ${name}`);
    await migrateTenantDatabase(at('postgres'), name);
    t.pool = new pg.Pool({ connectionString: at(name), max: 2 });
    t.pool.on('error', () => undefined);
    t.pool.on('acquire', () => void t.checkouts++);
  });
  after(async () => {
    await t.pool?.end();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  return t;
}
