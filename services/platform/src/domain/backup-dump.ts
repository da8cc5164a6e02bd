// Taking one backup: the project database dumped by pg_dump inside an exported snapshot, and in the same snapshot
// the owners a restore must give back and the storage.objects rows whose bytes are copied beside the dump. The
// manifest goes last, so a backup cut short never looks complete.
import pg from 'pg';
import type { ObjectStore } from '@basalt/object-store';
import { objectVersionKey } from '@basalt/object-store';
import { runPgTool } from '../clients/pg-tools.js';
import { backupKeys, OWNED_OBJECTS_SQL, writeManifest, type BackupManifest, type ManifestObject, type OwnedObject } from './backup-files.js';

export interface ProjectDatabase {
  ref: string;
  dbName: string;
  dbRole: string;
  /** the cluster's admin login, on the project's database */
  adminUrl: string;
}

export interface DumpDeps {
  store: ObjectStore;
  pgBin: string;
}

/** object bytes copied at once */
const COPY_PARALLEL = 4;

export async function dumpProject(d: DumpDeps, p: ProjectDatabase, id: string, signal: AbortSignal) {
  const keys = backupKeys(p.ref, id);
  const client = new pg.Client({ connectionString: p.adminUrl, connectionTimeoutMillis: 10_000 });
  // The connection sits idle while pg_dump runs: if it ends then (the project deleted, the server restarted), an
  // 'error' event with no listener would end the process. The next query on it fails the backup instead.
  client.on('error', () => undefined);
  await client.connect();
  let snapshot: { owners: OwnedObject[]; objects: ManifestObject[]; serverVersion: string; dbBytes: number };
  try {
    // The snapshot stays exported while this transaction is open: pg_dump sees exactly what the queries below see.
    await client.query('begin isolation level repeatable read read only');
    await client.query(`select set_config('search_path', '', true)`);
    const { rows: [s] } = await client.query<{ snap: string; version: string }>(
      `select pg_export_snapshot() as snap, current_setting('server_version') as version`);
    const owners = (await client.query<OwnedObject>(OWNED_OBJECTS_SQL)).rows;
    const objects = (await client.query<ManifestObject>(
      `select bucket_id, name, version, coalesce((metadata->>'size')::bigint, 0)::float8 as size
         from storage.objects where version is not null order by bucket_id, name`)).rows;
    const dump = runPgTool(d.pgBin, 'pg_dump', p.adminUrl, ['--format=custom', `--snapshot=${s.snap}`]);
    const kill = () => dump.kill();
    signal.addEventListener('abort', kill);
    try {
      const [dbBytes] = await Promise.all([d.store.put(keys.database, dump.stdout), dump.done]);
      snapshot = { owners, objects, serverVersion: s.version, dbBytes };
    } finally {
      signal.removeEventListener('abort', kill);
    }
    await client.query('commit');
  } finally {
    await client.end().catch(() => undefined);
  }
  const missing = await copyObjects(d.store, p.ref, keys.object, snapshot.objects, signal);
  const copied = snapshot.objects.filter((o) => !missing.includes(o.version));
  const manifest: BackupManifest = {
    format: 'basalt-backup/1', id, ref: p.ref, db_role: p.dbRole, created_at: new Date().toISOString(), server_version: snapshot.serverVersion,
    db_bytes: snapshot.dbBytes, owners: snapshot.owners, objects: copied, missing,
  };
  await writeManifest(d.store, p.ref, manifest);
  return { dbBytes: snapshot.dbBytes, objectBytes: copied.reduce((n, o) => n + Number(o.size), 0), objectCount: copied.length };
}

/** Copies each object version's bytes into the backup; returns the versions whose bytes were gone. */
async function copyObjects(store: ObjectStore, ref: string, target: (v: string) => string, objects: ManifestObject[], signal: AbortSignal) {
  const missing: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      signal.throwIfAborted();
      const o = objects[next++];
      const body = await store.get(objectVersionKey(ref, o.version));
      if (!body) missing.push(o.version);
      else await store.put(target(o.version), body);
    }
  };
  await Promise.all(Array.from({ length: COPY_PARALLEL }, worker));
  return missing;
}
