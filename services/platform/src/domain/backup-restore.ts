// Restoring a backup into a project (its own or another): the dump goes into a new database beside the project's,
// is given the project's owners, grants and settings and brought to the current tenant schema, the object bytes are
// put where storage reads them, and only then is the new database swapped in by rename. Anything failing before
// the swap drops the new database and leaves the project as it was.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ident, withClient as connectedClient } from '@basalt/db';
import { objectVersionKey, type ObjectStore } from '@basalt/object-store';
import { databaseLocale, localeOptions, migrateTenantDatabase } from '@basalt/tenant-schema';
import { feedPgTool, runPgTool } from '../clients/pg-tools.js';
import { backupKeys, type BackupManifest } from './backup-files.js';
import type { DumpDeps, ProjectDatabase } from './backup-dump.js';

const ALTER: Record<string, string> = {
  schema: 'schema', table: 'table', view: 'view', 'materialized view': 'materialized view', sequence: 'sequence',
  'foreign table': 'foreign table', function: 'function', procedure: 'procedure', aggregate: 'aggregate',
  type: 'type', domain: 'domain', publication: 'publication',
};

const onDatabase = (adminUrl: string, db: string) => Object.assign(new URL(adminUrl), { pathname: `/${db}` }).toString();

/** a connection of the restore's own (its target may be dropped under it: @basalt/db's withClient listens for that) */
const withClient = <T>(url: string, fn: (c: pg.Client) => Promise<T>) => connectedClient(url, fn, { connectionTimeoutMillis: 10_000 });

export async function restoreProject(d: DumpDeps, m: BackupManifest, target: ProjectDatabase, signal: AbortSignal): Promise<void> {
  const fresh = `${target.dbName}_restore_${randomBytes(4).toString('hex')}`;
  const admin = onDatabase(target.adminUrl, 'postgres');
  await withClient(admin, async (c) => {
    // the locale of the database it replaces: a restore brings back the project's text order as it was
    await c.query(`create database ${ident(fresh)} template template0 ${localeOptions(await databaseLocale(c, target.dbName))}`);
    // nobody but the admin connects until the swap gives it the project's grants
    await c.query(`revoke all on database ${ident(fresh)} from public`);
  });
  try {
    await loadDump(d, m, onDatabase(target.adminUrl, fresh), signal);
    await withClient(onDatabase(target.adminUrl, fresh), (c) => giveOwners(c, m, target.dbRole));
    await migrateTenantDatabase(target.adminUrl, fresh);
    await withClient(admin, (c) => copyDatabaseSetup(c, target.dbName, fresh));
    await putObjects(d.store, m, target.ref, signal);
    signal.throwIfAborted();
    // not interruptible: once begun, the swap completes or puts the old database back
    await withClient(admin, (c) => swapDatabase(c, target.dbName, fresh));
  } catch (e) {
    // after a completed swap the name is free, so this drops only a new database that never took the project's place
    await withClient(admin, (c) => c.query(`drop database if exists ${ident(fresh)} with (force)`)).catch(() => undefined);
    throw e;
  }
}

async function loadDump(d: DumpDeps, m: BackupManifest, url: string, signal: AbortSignal): Promise<void> {
  const archive = await d.store.get(backupKeys(m.ref, m.id).database);
  if (!archive) throw new Error('the backup\'s database archive is missing from the object store');
  // --no-owner: everything is created as the admin, then given to the project's roles from the manifest, so neither
  // the source cluster's admin name nor the source project's login role leaks into the target
  const restore = runPgTool(d.pgBin, 'pg_restore', url, ['--no-owner', '--single-transaction', '--exit-on-error']);
  const kill = () => restore.kill();
  signal.addEventListener('abort', kill);
  try {
    await feedPgTool(restore, archive);
  } finally {
    signal.removeEventListener('abort', kill);
  }
}

/** The owners the dump recorded; the source project's login role becomes the target's, a role the cluster lacks is an error. */
async function giveOwners(c: pg.Client, m: BackupManifest, targetRole: string): Promise<void> {
  await c.query('begin');
  try {
    await c.query(`select set_config('search_path', '', true)`);
    for (const o of m.owners) {
      const what = ALTER[o.kind];
      if (!what) throw new Error(`unknown object kind ${o.kind} in the backup's owners`);
      const owner = o.owner === m.db_role ? targetRole : o.owner;
      await c.query(`alter ${what} ${o.identity} owner to ${ident(owner)}`);
    }
    await c.query('commit');
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  }
}

/** The project database's own settings (search_path, read-only for a quota) and grants, onto the new database. */
async function copyDatabaseSetup(c: pg.Client, from: string, to: string): Promise<void> {
  const { rows: settings } = await c.query<{ name: string; value: string }>(
    `select split_part(s, '=', 1) as name, substr(s, strpos(s, '=') + 1) as value
       from pg_db_role_setting r, unnest(r.setconfig) s
      where r.setdatabase = (select oid from pg_database where datname = $1) and r.setrole = 0`, [from]);
  for (const s of settings) {
    // set_config parses the stored text as a configuration file would (lists stay lists), FROM CURRENT stores it
    await c.query('begin');
    await c.query('select set_config($1, $2, true)', [s.name, s.value]);
    await c.query(`alter database ${ident(to)} set ${ident(s.name)} from current`);
    await c.query('commit');
  }
  const { rows: grants } = await c.query<{ privilege: string; grantee: string | null }>(
    `select a.privilege_type as privilege, case when a.grantee = 0 then null else a.grantee::regrole::text end as grantee
       from pg_database d, aclexplode(d.datacl) a where d.datname = $1 and a.grantee <> d.datdba`, [from]);
  for (const g of grants) {
    await c.query(`grant ${g.privilege === 'TEMPORARY' ? 'temporary' : g.privilege.toLowerCase()} on database ${ident(to)} to ${g.grantee ?? 'public'}`);
  }
}

async function putObjects(store: ObjectStore, m: BackupManifest, ref: string, signal: AbortSignal): Promise<void> {
  const from = backupKeys(m.ref, m.id).object;
  let next = 0;
  const worker = async () => {
    while (next < m.objects.length) {
      signal.throwIfAborted();
      const { version } = m.objects[next++];
      const body = await store.get(from(version));
      if (!body) throw new Error(`the bytes of object version ${version} are missing from the backup`);
      await store.put(objectVersionKey(ref, version), body);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/**
 * The project's database is closed to new sessions, its sessions ended (services' pools reconnect on their next
 * request), and the new database takes its name. A failed rename puts the old one back.
 */
async function swapDatabase(c: pg.Client, name: string, fresh: string): Promise<void> {
  const old = `${name}_old_${randomBytes(4).toString('hex')}`;
  await c.query(`alter database ${ident(name)} with allow_connections false`);
  try {
    for (let attempt = 0; ; attempt++) {
      await c.query('select pg_terminate_backend(pid, 5000) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
      try {
        await c.query(`alter database ${ident(name)} rename to ${ident(old)}`);
        break;
      } catch (e) {
        // 55006: a session was still leaving
        if ((e as { code?: string }).code !== '55006' || attempt >= 20) throw e;
        await sleep(250);
      }
    }
  } catch (e) {
    await c.query(`alter database ${ident(name)} with allow_connections true`).catch(() => undefined);
    throw e;
  }
  try {
    await c.query(`alter database ${ident(fresh)} rename to ${ident(name)}`);
  } catch (e) {
    await c.query(`alter database ${ident(old)} rename to ${ident(name)}`);
    await c.query(`alter database ${ident(name)} with allow_connections true`);
    throw e;
  }
  // the restore has happened; a drop that fails leaves a proj_<ref>_old_* database for the operator, not a failed restore
  await c.query(`drop database ${ident(old)} with (force)`).catch(() => undefined);
}
