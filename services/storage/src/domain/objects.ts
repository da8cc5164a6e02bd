// Objects: metadata in storage.objects (as the caller, so RLS decides), bytes in the backend under a fresh
// version key per write. A write streams the bytes first and commits the row second, so a failed or refused
// upload leaves neither a row nor a file; the replaced version's bytes are removed only after the commit.
import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { BasaltError } from '@basalt/errors';
import type { Project } from '@basalt/tenancy';
import { objectKey, type Backend, type ByteRange } from '../backend/index.js';
import { storageErrors } from '../errors.js';
import { bucketId, mimeAllowed, objectName } from '../keys.js';
import { asService, type Actor, type Tx } from '../db/tx.js';
import { ownerColumns } from './caller.js';
import { etagOf } from './etag.js';
import { findBucket, type BucketRow } from './buckets.js';

export interface ObjectRow {
  id: string;
  bucket_id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  version: string | null;
  metadata: SystemMetadata | null;
  user_metadata: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  last_accessed_at: Date;
}

export interface SystemMetadata {
  eTag: string;
  size: number;
  mimetype: string;
  cacheControl: string;
  lastModified: string;
  contentLength: number;
  httpStatusCode: number;
}

export interface UploadHead {
  contentType: string;
  cacheControl: string;
  userMetadata: Record<string, unknown> | null;
}

const COLUMNS = 'id, bucket_id, name, owner, owner_id, version, metadata, user_metadata, created_at, updated_at, last_accessed_at';
const PLACEHOLDER = '.emptyFolderPlaceholder';
/** bodies up to this size are written first and checked at commit; larger ones are checked before reading */
export const SMALL_UPLOAD_BYTES = 256 * 1024;
const newVersion = () => randomUUID().replace(/-/g, '');
const likePrefix = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);
/** A backend failure that is not ours to explain (S3 down, disk full) is a 503, logged with its cause. */
const backendCall = <T>(p: Promise<T>): Promise<T> => p.catch((e) => {
  if (e instanceof BasaltError) throw e;
  // the client went away mid-transfer (Node's request 'aborted', or our download loop's): nothing wrong on our
  // side. A backend's own reset (an S3 socket) is a backend failure, not this.
  if ((e as Error).message === 'aborted') throw storageErrors.invalidRequest('The transfer was interrupted');
  throw storageErrors.backend(e);
});

/**
 * The version a write to bucket/name will replace. Writers of one key queue on a transaction-scoped advisory
 * lock first, so two concurrent upserts of a new key cannot both see "no previous version" and leak the bytes of
 * the one that commits first.
 */
async function currentVersion(c: pg.PoolClient, bucket: string, name: string): Promise<string | null> {
  await c.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`${bucket}/${name}`]);
  const { rows } = await c.query<{ version: string }>('select version from storage.objects where bucket_id = $1 and name = $2', [bucket, name]);
  return rows[0]?.version ?? null;
}

export interface ObjectDeps {
  tx: Tx;
  project: Project;
  backend: Backend;
  maxFileSize: number;
}

export type Owner = { sub?: string };

export function objectDomain({ tx, project, backend, maxFileSize }: ObjectDeps) {
  const key = (version: string) => objectKey(project.ref, version);
  const dropVersions = (versions: (string | null)[]) => {
    const keys = versions.flatMap((v) => (v ? [key(v)] : []));
    return keys.length ? backend.remove(keys).catch(() => undefined) : Promise.resolve();
  };

  async function bucketFor(c: pg.PoolClient, actor: Actor, id: string): Promise<BucketRow> {
    const b = await asService(c, actor, () => findBucket(c, id));
    if (!b) throw storageErrors.noSuchBucket();
    return b;
  }

  /** The row for bytes stored under `version`, as the caller; on refusal the bytes go, on success the replaced ones. */
  async function commit(actor: Actor & Owner, bucket: string, name: string, version: string, size: number, head: UploadHead,
    opts: { upsert: boolean; checked?: { limit: number; mimes: string[] | null } }) {
    const exempt = name.endsWith(PLACEHOLDER);
    const metadata: SystemMetadata = {
      eTag: etagOf(version), size, mimetype: head.contentType, cacheControl: head.cacheControl,
      lastModified: new Date().toUTCString(), contentLength: size, httpStatusCode: 200,
    };
    let old: string | null = null;
    let id: string;
    try {
      id = await tx(actor, async (c) => {
        // Five round trips: (BEGIN + the caller's settings), the service role + this key's writer lock, the
        // replaced version and bucket limits read as the service (switching back to the caller as it ends;
        // its plan was made as the service), the upsert as the caller, COMMIT.
        await c.query("select set_config('role', 'service_role', true), pg_advisory_xact_lock(hashtextextended($1, 0))", [`${bucket}/${name}`]);
        const { rows: [state] } = await c.query<{ old: string | null; lim: number | null; mimes: string[] | null }>(
          `select (select version from storage.objects where bucket_id = $1 and name = $2) as old,
                  b.file_size_limit::float8 as lim, b.allowed_mime_types as mimes, set_config('role', $3, true)
             from storage.buckets b where b.id = $1`, [bucket, name, actor.role]);
        if (!state) throw storageErrors.noSuchBucket();
        if (!opts.checked) {
          if (size > Math.min(state.lim ?? Infinity, maxFileSize)) throw storageErrors.tooLarge();
          if (!exempt && !mimeAllowed(head.contentType, state.mimes)) throw storageErrors.invalidMime(head.contentType);
        }
        old = state.old;
        const { rows } = await c.query<{ id: string }>(upsertSql(opts.upsert),
          [bucket, name, ...ownerColumns(actor.sub), version, metadata, head.userMetadata]);
        return rows[0].id;
      });
    } catch (e) {
      await dropVersions([version]);
      throw e;
    }
    if (old) await dropVersions([old]);
    return { Id: id, Key: `${bucket}/${name}` };
  }

  const upsertSql = (upsert: boolean) => `
    insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
    values ($1, $2, $3, $4, $5, $6, $7)
    ${upsert ? `on conflict (bucket_id, name) do update set owner = excluded.owner, owner_id = excluded.owner_id,
      version = excluded.version, metadata = excluded.metadata, user_metadata = excluded.user_metadata, last_accessed_at = now()` : ''}
    returning id`;

  return {
    /**
     * Checks everything that does not need the bytes (bucket, size, RLS insert/update permission, existing key)
     * before reading a byte of the body, so a refused upload is refused at once.
     */
    async prepareUpload(actor: Actor & Owner, bucket: string, name: string, upsert: boolean, contentLength?: number) {
      bucketId(bucket);
      objectName(name);
      const limit = await tx(actor, async (c) => {
        const b = await bucketFor(c, actor, bucket);
        const limit = Math.min(b.file_size_limit ?? Infinity, maxFileSize);
        if (contentLength !== undefined && contentLength > limit) throw storageErrors.tooLarge();
        // The permission probe: the same statement the commit will run, rolled back.
        await c.query(upsertSql(upsert), [bucket, name, ...ownerColumns(actor.sub), null, null, null]);
        return { limit, mimes: b.allowed_mime_types };
      }, { rollback: true });
      return limit;
    },

    /**
     * Streams the bytes, then commits the row. `checked` carries what prepareUpload found (large bodies are
     * checked before a byte is read); a small body is written first and checked in the commit's own
     * transaction, one transaction instead of two.
     */
    async upload(actor: Actor & Owner, bucket: string, name: string, body: Readable, head: UploadHead,
      opts: { upsert: boolean; checked?: { limit: number; mimes: string[] | null } }) {
      if (opts.checked && !name.endsWith(PLACEHOLDER) && !mimeAllowed(head.contentType, opts.checked.mimes)) throw storageErrors.invalidMime(head.contentType);
      if (!opts.checked) {
        bucketId(bucket);
        objectName(name);
      }
      const version = newVersion();
      const stored = await backendCall(backend.put(key(version), body, opts.checked?.limit ?? maxFileSize));
      return commit(actor, bucket, name, version, stored.size, head, opts);
    },

    /** Makes bytes already stored under `version` the object bucket/name (resumable uploads end here). */
    commit: (actor: Actor & Owner, bucket: string, name: string, version: string, size: number, head: UploadHead, upsert: boolean) =>
      commit(actor, bucket, name, version, size, head, { upsert }),
    newVersion,

    /** The object as the caller sees it (RLS), or as the service for public buckets and signed URLs. */
    async find(actor: Actor, bucket: string, name: string, opts: { publicOnly?: boolean } = {}): Promise<ObjectRow> {
      bucketId(bucket);
      objectName(name);
      const row = await tx(actor, async (c) => {
        if (opts.publicOnly) {
          const b = await findBucket(c, bucket);
          if (!b?.public) throw storageErrors.noSuchBucket();
        }
        return (await c.query<ObjectRow>(`select ${COLUMNS} from storage.objects where bucket_id = $1 and name = $2`, [bucket, name])).rows[0];
      });
      if (!row || !row.version) throw storageErrors.noSuchKey();
      return row;
    },

    read: (row: ObjectRow, range?: ByteRange) => backendCall(backend.get(key(row.version!), range)),

    /** Sends the bytes to dest and ends it: the backend's buffer-reusing path when it has one. */
    async send(row: ObjectRow, range: ByteRange | undefined, dest: Writable): Promise<void> {
      if (backend.pipeTo) return backendCall(backend.pipeTo(key(row.version!), range, dest));
      await pipeline(await backendCall(backend.get(key(row.version!), range)), dest);
    },

    async list(actor: Actor, bucket: string, body: Record<string, unknown>) {
      bucketId(bucket);
      if (typeof body.prefix !== 'string') throw storageErrors.invalidRequest('prefix is required');
      const folder = body.prefix.replace(/\/+$/, '');
      const level = folder === '' ? 1 : folder.split('/').length + 1;
      const limit = Math.min(Math.max(Number(body.limit ?? 100) || 100, 1), 1000);
      const offset = Math.max(Number(body.offset ?? 0) || 0, 0);
      const sortBy = (body.sortBy ?? {}) as { column?: string; order?: string };
      const column = ['name', 'updated_at', 'created_at', 'last_accessed_at'].includes(sortBy.column ?? '') ? sortBy.column! : 'name';
      const order = String(sortBy.order ?? 'asc').toLowerCase() === 'desc' ? 'desc' : 'asc';
      // search matches the start of an entry's name, case-insensitively, as Supabase's storage.search does
      const search = typeof body.search === 'string' && body.search !== '' ? likePrefix(body.search) : null;
      return tx(actor, async (c) => {
        await bucketFor(c, actor, bucket);
        const { rows } = await c.query(
          `with objs as (
             select o.path_tokens[$3] as part, array_length(o.path_tokens, 1) = $3 as is_file, o.*
             from storage.objects o
             where o.bucket_id = $1 and o.name collate "C" like $2 and array_length(o.path_tokens, 1) >= $3
           ), entries as (
             select distinct on (part) part as name, null::uuid as id, null::timestamptz as updated_at, null::timestamptz as created_at,
                    null::timestamptz as last_accessed_at, null::jsonb as metadata
             from objs where not is_file
             union all
             select part, id, updated_at, created_at, last_accessed_at, metadata from objs where is_file
           )
           select * from entries where ($4::text is null or name ilike $4 || '%')
           order by ${column === 'name' ? 'name collate "C"' : column} ${order}, name collate "C" asc
           limit $5 offset $6`,
          [bucket, folder === '' ? '%' : `${likePrefix(folder)}/%`, level, search, limit, offset]);
        return rows;
      });
    },

    /**
     * listV2: keyset pages over names in byte order. `prefix` is a plain name prefix; with_delimiter groups
     * everything below the next "/" into one folder entry. The cursor is the last key of the previous page.
     */
    async listV2(actor: Actor, bucket: string, body: Record<string, unknown>) {
      bucketId(bucket);
      const prefix = typeof body.prefix === 'string' ? body.prefix : '';
      const limit = Math.min(Math.max(Number(body.limit ?? 1000) || 1000, 1), 1000);
      const delimiter = body.with_delimiter === true;
      const sortBy = (body.sortBy ?? {}) as { order?: string };
      const desc = String(sortBy.order ?? 'asc').toLowerCase() === 'desc';
      let after: string | null = null;
      if (typeof body.cursor === 'string' && body.cursor !== '') {
        try {
          after = Buffer.from(body.cursor, 'base64url').toString('utf8');
        } catch {
          throw storageErrors.invalidRequest('invalid cursor');
        }
      }
      return tx(actor, async (c) => {
        await bucketFor(c, actor, bucket);
        const { rows } = await c.query<{ key: string; is_folder: boolean } & Partial<ObjectRow>>(
          `with matched as (
             select o.*, case when $4 and position('/' in substr(o.name, length($2) + 1)) > 0
                      then left(o.name, length($2) + position('/' in substr(o.name, length($2) + 1))) else o.name end as key
             from storage.objects o
             where o.bucket_id = $1 and o.name collate "C" like $3
           ), entries as (
             select key, bool_or(key <> name) as is_folder, (array_agg(id))[1] as id, max(updated_at) as updated_at,
                    max(created_at) as created_at, max(last_accessed_at) as last_accessed_at, (array_agg(metadata))[1] as metadata,
                    (array_agg(version))[1] as version
             from matched group by key
           )
           select * from entries
           where $5::text is null or (case when $6 then key collate "C" < $5 else key collate "C" > $5 end)
           order by key collate "C" ${desc ? 'desc' : 'asc'} limit $7`,
          [bucket, prefix, `${likePrefix(prefix)}%`, delimiter, after, desc, limit + 1]);
        const page = rows.slice(0, limit);
        const hasNext = rows.length > limit;
        return {
          hasNext,
          ...(hasNext ? { nextCursor: Buffer.from(page[page.length - 1].key).toString('base64url') } : {}),
          folders: page.filter((r) => r.is_folder).map((r) => ({ name: r.key.slice(prefix.length).replace(/\/$/, ''), key: r.key })),
          objects: page.filter((r) => !r.is_folder).map((r) => ({
            name: r.key, key: r.key, id: r.id, version: r.version, updated_at: r.updated_at, created_at: r.created_at,
            last_accessed_at: r.last_accessed_at, metadata: r.metadata,
          })),
        };
      });
    },

    async move(actor: Actor, body: Record<string, unknown>, copy: boolean, owner?: string) {
      const from = bucketId(body.bucketId);
      const to = body.destinationBucket === undefined || body.destinationBucket === null ? from : bucketId(body.destinationBucket);
      const source = objectName(body.sourceKey);
      const dest = objectName(body.destinationKey);
      const upsert = copy && body.upsert === true;
      let created: string | null = null;
      let replaced: string | null = null;
      try {
        const row = await tx(actor, async (c) => {
          await bucketFor(c, actor, to);
          const src = (await c.query<ObjectRow>(`select ${COLUMNS} from storage.objects where bucket_id = $1 and name = $2 for update`, [from, source])).rows[0];
          if (!src?.version) throw storageErrors.noSuchKey();
          if (!copy) {
            const { rows } = await c.query<{ id: string }>(
              'update storage.objects set bucket_id = $3, name = $4, last_accessed_at = now() where id = $1 and bucket_id = $2 returning id',
              [src.id, from, to, dest]);
            if (!rows[0]) throw storageErrors.noSuchKey();
            return rows[0];
          }
          created = newVersion();
          await backendCall(backend.copy(key(src.version), key(created)));
          replaced = await asService(c, actor, () => currentVersion(c, to, dest));
          const keepMeta = body.copyMetadata !== false;
          const userMeta = keepMeta ? src.user_metadata : ((body.metadata as Record<string, unknown> | undefined) ?? null);
          const { rows } = await c.query<{ id: string }>(upsertSql(upsert),
            [to, dest, ...ownerColumns(owner), created, { ...src.metadata, lastModified: new Date().toUTCString() }, userMeta]);
          return rows[0];
        });
        if (replaced) await dropVersions([replaced]);
        return { id: row.id, key: `${to}/${dest}` };
      } catch (e) {
        if (created) await dropVersions([created]);
        throw e;
      }
    },

    async remove(actor: Actor, bucket: string, names: unknown): Promise<ObjectRow[]> {
      bucketId(bucket);
      if (!Array.isArray(names) || names.length === 0 || names.length > 1000 || !names.every((n) => typeof n === 'string')) {
        throw storageErrors.invalidRequest('prefixes must be a list of 1 to 1000 object names');
      }
      const rows = await tx(actor, async (c) =>
        (await c.query<ObjectRow>(`delete from storage.objects where bucket_id = $1 and name = any($2::text[]) returning ${COLUMNS}`, [bucket, names])).rows);
      await dropVersions(rows.map((r) => r.version));
      return rows;
    },

    async removeOne(actor: Actor, bucket: string, name: string): Promise<void> {
      const rows = await this.remove(actor, bucket, [objectName(name)]);
      if (!rows.length) throw storageErrors.noSuchKey();
    },

    /** Signing needs SELECT on the object (download) or the insert permission (upload), checked as the caller. */
    async canRead(actor: Actor, bucket: string, names: string[]): Promise<Set<string>> {
      bucketId(bucket);
      const rows = await tx(actor, async (c) =>
        (await c.query<{ name: string }>('select name from storage.objects where bucket_id = $1 and name = any($2::text[])', [bucket, names])).rows);
      return new Set(rows.map((r) => r.name));
    },

    dropVersions,
  };
}

export type ObjectDomain = ReturnType<typeof objectDomain>;

export const fileObjectJson = (r: ObjectRow) => ({
  name: r.name, id: r.id, bucket_id: r.bucket_id, owner: r.owner, owner_id: r.owner_id, version: r.version,
  created_at: r.created_at, updated_at: r.updated_at, last_accessed_at: r.last_accessed_at, metadata: r.metadata, user_metadata: r.user_metadata,
});

export const infoJson = (r: ObjectRow) => ({
  id: r.id, name: r.name, version: r.version, bucket_id: r.bucket_id, size: r.metadata?.size ?? null,
  content_type: r.metadata?.mimetype ?? null, cache_control: r.metadata?.cacheControl ?? null, etag: r.metadata?.eTag ?? null,
  metadata: r.user_metadata ?? {}, last_modified: r.updated_at, created_at: r.created_at,
});

