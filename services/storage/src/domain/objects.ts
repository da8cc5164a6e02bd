// Objects: metadata in storage.objects (as the caller, so RLS decides), bytes in the backend under a fresh
// version key per write. A write streams the bytes first and commits the row second, so a failed or refused
// upload leaves neither a row nor a file; the replaced version's bytes are removed only after the commit.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { BasaltError } from '@basalt/errors';
import { capped, type Project } from '@basalt/tenancy';
import { objectKey, type Backend, type ByteRange } from '../backend/index.js';
import type { Download } from '../backend/download.js';
import { storageErrors } from '../errors.js';
import { bucketId, mimeAllowed, objectName } from '../keys.js';
import { bytesBesides } from '../db/object-bytes.js';
import { asService, type Actor, type Read, type Tx } from '../db/tx.js';
import { ownerColumns } from './caller.js';
import { etagOf } from './etag.js';
import { findBucket, type BucketRow } from './buckets.js';
import { listingDomain } from './listing.js';
import { formatMediaType, objectContentType, storedMediaType } from './mime.js';

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
/**
 * A whole object as a range of its stored size: a reader then allocates buffers of the object's size, not the
 * backend's 1 MB blocks, and no stat is needed to know where it ends.
 */
const whole = (row: ObjectRow): ByteRange | undefined => (row.metadata?.size ? { start: 0, end: row.metadata.size - 1 } : undefined);
const newVersion = () => randomUUID().replace(/-/g, '');
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
  /** a single read in one round trip */
  read: Read;
  project: Project;
  backend: Backend;
  maxFileSize: number;
}

export type Owner = { sub?: string };

export function objectDomain({ tx, read, project, backend, maxFileSize: serviceMax }: ObjectDeps) {
  const key = (version: string) => objectKey(project.ref, version);
  // The plan's max_object_bytes lowers the service's ceiling; its storage_bytes bounds all objects together.
  const planMax = project.quotas.max_object_bytes;
  const maxFileSize = capped(serviceMax, planMax);
  const storageQuota = project.quotas.storage_bytes;
  /** the refusal of a body over `limit`: the plan's quota by name when that is what limits it */
  const tooLarge = (limit: number) => (planMax !== null && limit >= planMax ? storageErrors.objectQuota(planMax) : storageErrors.tooLarge());

  /**
   * Refuses `adding` bytes at bucket/name (replacing what is there) when the project's objects would exceed
   * storage_bytes. Runs as the service (RLS would hide others' objects from the sum); writers of the project queue
   * on one lock until they commit, so two uploads cannot both take the last free bytes.
   */
  async function assertRoom(c: pg.PoolClient, bucket: string, name: string, adding: number): Promise<void> {
    if (storageQuota === null) return;
    await c.query("select pg_advisory_xact_lock(hashtextextended('basalt:storage_bytes', 0))");
    if ((await bytesBesides(c, bucket, name)) + adding > storageQuota) throw storageErrors.storageQuota(storageQuota);
  }
  const dropVersions = (versions: (string | null)[]) => {
    const keys = versions.flatMap((v) => (v ? [key(v)] : []));
    return keys.length ? backend.remove(keys).catch(() => undefined) : Promise.resolve();
  };

  async function bucketFor(c: pg.PoolClient, actor: Actor, id: string): Promise<BucketRow> {
    const b = await asService(c, actor, () => findBucket(c, id));
    if (!b) throw storageErrors.noSuchBucket();
    return b;
  }

  /**
   * The source of a copy or move as the caller sees it. A move updates it, so it is locked as the caller (UPDATE
   * policies apply); a copy only reads it (SELECT policies), then holds it as the service.
   */
  async function sourceOf(c: pg.PoolClient, actor: Actor, bucket: string, name: string, copy: boolean): Promise<ObjectRow> {
    const select = `select ${COLUMNS} from storage.objects where bucket_id = $1 and name = $2`;
    let src = (await c.query<ObjectRow>(copy ? select : `${select} for update`, [bucket, name])).rows[0];
    if (src && copy) src = await asService(c, actor, async () => (await c.query<ObjectRow>(`${select} for share`, [bucket, name])).rows[0]);
    if (!src?.version) throw storageErrors.noSuchKey();
    return src;
  }

  /** The row for bytes stored under `version`, as the caller; on refusal the bytes go, on success the replaced ones. */
  async function commit(actor: Actor & Owner, bucket: string, name: string, version: string, size: number, head: UploadHead,
    opts: { upsert: boolean; checked?: { limit: number; mimes: string[] | null }; etag?: string }) {
    const exempt = name.endsWith(PLACEHOLDER);
    const type = objectContentType(head.contentType); // already parsed by every caller; kept as the invariant
    const metadata: SystemMetadata = {
      eTag: opts.etag ?? etagOf(version), size, mimetype: type, cacheControl: head.cacheControl,
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
        await assertRoom(c, bucket, name, size);
        const { rows: [state] } = await c.query<{ old: string | null; lim: number | null; mimes: string[] | null }>(
          `select (select version from storage.objects where bucket_id = $1 and name = $2) as old,
                  b.file_size_limit::float8 as lim, b.allowed_mime_types as mimes, set_config('role', $3, true)
             from storage.buckets b where b.id = $1`, [bucket, name, actor.role]);
        if (!state) throw storageErrors.noSuchBucket();
        if (!opts.checked) {
          const lim = Math.min(state.lim ?? Infinity, maxFileSize);
          if (size > lim) throw tooLarge(lim);
          if (!exempt && !mimeAllowed(type, state.mimes)) throw storageErrors.invalidMime(type);
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
        if (contentLength !== undefined && contentLength > limit) throw tooLarge(limit);
        if (contentLength !== undefined && storageQuota !== null) await asService(c, actor, () => assertRoom(c, bucket, name, contentLength));
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
      opts: { upsert: boolean; checked?: { limit: number; mimes: string[] | null }; etag?: () => string }) {
      const type = objectContentType(head.contentType);
      if (opts.checked && !name.endsWith(PLACEHOLDER) && !mimeAllowed(type, opts.checked.mimes)) throw storageErrors.invalidMime(type);
      if (!opts.checked) {
        bucketId(bucket);
        objectName(name);
      }
      const version = newVersion();
      const limit = opts.checked?.limit ?? maxFileSize;
      const stored = await backendCall(backend.put(key(version), body, limit)).catch((e) => {
        throw (e as BasaltError).code === 'EntityTooLarge' ? tooLarge(limit) : e;
      });
      return commit(actor, bucket, name, version, stored.size, head, { ...opts, etag: opts.etag?.() });
    },

    /** Makes bytes already stored under `version` the object bucket/name (resumable uploads end here). */
    commit: (actor: Actor & Owner, bucket: string, name: string, version: string, size: number, head: UploadHead, upsert: boolean, etag?: string) =>
      commit(actor, bucket, name, version, size, head, { upsert, etag }),
    newVersion,

    /** The object as the caller sees it (RLS), or as the service for public buckets and signed URLs. */
    async find(actor: Actor, bucket: string, name: string, opts: { publicOnly?: boolean } = {}): Promise<ObjectRow> {
      bucketId(bucket);
      objectName(name);
      const text = `select ${COLUMNS} from storage.objects where bucket_id = $1 and name = $2`;
      const row = opts.publicOnly
        ? await tx(actor, async (c) => {
          const b = await findBucket(c, bucket);
          if (!b?.public) throw storageErrors.noSuchBucket();
          return (await c.query<ObjectRow>(text, [bucket, name])).rows[0];
        })
        : (await read<ObjectRow>(actor, text, [bucket, name]))[0];
      if (!row || !row.version) throw storageErrors.noSuchKey();
      return row;
    },

    /** The object's bytes (or a range of them) as a stream. */
    read: (row: ObjectRow, range?: ByteRange) => backendCall(backend.get(key(row.version!), range ?? whole(row))),

    /** The bytes for a response (reply.send): the backend's buffer-reusing download when it has one. */
    download: (row: ObjectRow, range?: ByteRange) =>
      backendCall<Readable | Download>(backend.download ? backend.download(key(row.version!), range ?? whole(row)) : backend.get(key(row.version!), range)),

    ...listingDomain(tx, read),

    /**
     * Copy and move write the destination as an upload would: its bucket's size limit and MIME allow-list, and
     * the caller's RLS insert permission there (a move's UPDATE is probed as the insert an upload runs). A copy
     * needs only SELECT on the source; the source row is then held (as the service) so a concurrent delete cannot
     * remove the bytes being copied. A refusal leaves no row and no bytes.
     */
    async move(actor: Actor & Owner, body: Record<string, unknown>, copy: boolean) {
      const from = bucketId(body.bucketId);
      const to = body.destinationBucket === undefined || body.destinationBucket === null ? from : bucketId(body.destinationBucket);
      const source = objectName(body.sourceKey);
      const dest = objectName(body.destinationKey);
      const upsert = copy && body.upsert === true;
      let created: string | null = null;
      let replaced: string | null = null;
      try {
        const row = await tx(actor, async (c) => {
          const bucket = await bucketFor(c, actor, to);
          const src = await sourceOf(c, actor, from, source, copy);
          const type = storedMediaType(src.metadata?.mimetype);
          const lim = Math.min(bucket.file_size_limit ?? Infinity, maxFileSize);
          if ((src.metadata?.size ?? 0) > lim) throw tooLarge(lim);
          if (!dest.endsWith(PLACEHOLDER) && !mimeAllowed(type.type, bucket.allowed_mime_types)) throw storageErrors.invalidMime(type.type);
          if (!copy) {
            await c.query('savepoint upload_probe');
            await c.query(upsertSql(false), [to, dest, ...ownerColumns(actor.sub), null, null, null]);
            await c.query('rollback to savepoint upload_probe');
            const { rows } = await c.query<{ id: string }>(
              'update storage.objects set bucket_id = $3, name = $4, last_accessed_at = now() where id = $1 and bucket_id = $2 returning id',
              [src.id, from, to, dest]);
            if (!rows[0]) throw storageErrors.noSuchKey();
            return rows[0];
          }
          if (storageQuota !== null) await asService(c, actor, () => assertRoom(c, to, dest, src.metadata?.size ?? 0));
          created = newVersion();
          await backendCall(backend.copy(key(src.version!), key(created)));
          replaced = await asService(c, actor, () => currentVersion(c, to, dest));
          const keepMeta = body.copyMetadata !== false;
          const userMeta = keepMeta ? src.user_metadata : ((body.metadata as Record<string, unknown> | undefined) ?? null);
          const metadata = { ...src.metadata, mimetype: formatMediaType(type), lastModified: new Date().toUTCString() };
          const { rows } = await c.query<{ id: string }>(upsertSql(upsert), [to, dest, ...ownerColumns(actor.sub), created, metadata, userMeta]);
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

