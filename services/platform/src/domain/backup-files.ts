// The files of one backup in the object store, under backups/<ref>/<id>/: `database` (pg_dump's custom-format
// archive), `objects/<version>` (the bytes of each stored object) and `manifest` (JSON, written last: a backup
// without one is incomplete). Keys avoid dots, so the storage service's sweeper never takes them for its own.
import { Readable } from 'node:stream';
import type { ObjectStore } from '@basalt/object-store';

/** An object the dump's owner restores to a role of the project's (see ownedObjectsSql). */
export interface OwnedObject {
  kind: string;
  identity: string;
  owner: string;
}

export interface ManifestObject {
  bucket_id: string;
  name: string;
  version: string;
  size: number;
}

export interface BackupManifest {
  format: 'basalt-backup/1';
  id: string;
  ref: string;
  /** the project's login role when the backup was taken: a restore maps it to the target's */
  db_role: string;
  created_at: string;
  server_version: string;
  db_bytes: number;
  owners: OwnedObject[];
  /** storage.objects rows whose bytes were copied, as of the dump's snapshot */
  objects: ManifestObject[];
  /** versions a row pointed at whose bytes were already gone from the store */
  missing: string[];
}

export const backupPrefix = (ref: string, id: string) => `backups/${ref}/${id}`;

export const backupKeys = (ref: string, id: string) => {
  const prefix = backupPrefix(ref, id);
  return { prefix, database: `${prefix}/database`, manifest: `${prefix}/manifest`, object: (version: string) => `${prefix}/objects/${version}` };
};

export async function writeManifest(store: ObjectStore, ref: string, m: BackupManifest): Promise<void> {
  await store.put(backupKeys(ref, m.id).manifest, Readable.from([Buffer.from(JSON.stringify(m))]));
}

/** The manifest of a finished backup, or null when its files are gone. */
export async function readManifest(store: ObjectStore, ref: string, id: string): Promise<BackupManifest | null> {
  const body = await store.get(backupKeys(ref, id).manifest);
  if (!body) return null;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  const m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BackupManifest;
  if (m.format !== 'basalt-backup/1') throw new Error(`unknown backup format ${String(m.format)}`);
  return m;
}

/**
 * Objects owned by a non-superuser role (basalt_admin, the API roles), in a form ALTER … OWNER TO accepts. Members
 * of extensions and sequences that belong to a column (they follow their table) are left out. Run with an empty
 * search_path, so every name comes back schema-qualified.
 */
export const OWNED_OBJECTS_SQL = `
with owned as (
  select 'schema' as kind, quote_ident(n.nspname) as identity, n.nspowner as owner, 'pg_namespace'::regclass as cls, n.oid
    from pg_namespace n where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
  union all
  select case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence' when 'f' then 'foreign table' else 'table' end,
         c.oid::regclass::text, c.relowner, 'pg_class'::regclass, c.oid
    from pg_class c where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
     and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')
                       and d.refclassid = 'pg_class'::regclass)
  union all
  select case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end,
         p.oid::regprocedure::text, p.proowner, 'pg_proc'::regclass, p.oid
    from pg_proc p
  union all
  select case t.typtype when 'd' then 'domain' else 'type' end, t.oid::regtype::text, t.typowner, 'pg_type'::regclass, t.oid
    from pg_type t where t.typtype in ('e', 'd', 'r', 'm') or (t.typtype = 'c' and (select c.relkind from pg_class c where c.oid = t.typrelid) = 'c')
  union all
  select 'publication', quote_ident(pubname), pubowner, 'pg_publication'::regclass, oid from pg_publication
)
select o.kind, o.identity, r.rolname as owner
  from owned o join pg_roles r on r.oid = o.owner
 where not r.rolsuper
   and o.identity not like 'pg\\_catalog.%' and o.identity not like 'information\\_schema.%'
   and not exists (select 1 from pg_depend d where d.classid = o.cls and d.objid = o.oid and d.deptype = 'e')
 order by 1, 2`;
