// What the S3 protocol adds to buckets and objects: listings in S3's shape (keys in byte order, any delimiter,
// continuation by key) and multipart uploads, whose parts are stored under their own version keys and joined
// into one new object version on completion, committed as the caller like any upload (RLS decides).
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BasaltError } from '@basalt/errors';
import type { Project } from '@basalt/tenancy';
import { objectKey, type Backend } from '../backend/index.js';
import { storageErrors } from '../errors.js';
import { bucketId, objectName } from '../keys.js';
import { asService, SERVICE, type Actor, type Tx } from '../db/tx.js';
import { findBucket } from './buckets.js';
import type { ObjectDomain, Owner, UploadHead } from './objects.js';
import { md5Tap } from './s3-payload.js';

const s3Error = (status: number, code: string, message: string) => new BasaltError(status, code, message, { details: { statusCode: String(status), error: code } });
export const s3Errors = {
  invalidPart: (n: number) => s3Error(400, 'InvalidPart', `One or more of the specified parts could not be found (part ${n}). The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.`),
  invalidPartOrder: () => s3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
  invalidArgument: (message: string) => s3Error(400, 'InvalidArgument', message),
};

const likePrefix = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);
const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

export interface ListedObject {
  key: string;
  is_prefix: boolean;
  updated_at: Date | null;
  etag: string | null;
  size: number | null;
}

export interface MultipartRow {
  id: string;
  bucket_id: string;
  key: string;
  owner_id: string | null;
  content_type: string;
  cache_control: string;
  user_metadata: Record<string, unknown> | null;
  created_at: Date;
}

export interface PartRow {
  part_number: number;
  etag: string;
  size: number;
  version: string;
  created_at: Date;
}

export interface S3Deps {
  tx: Tx;
  project: Project;
  backend: Backend;
  objects: ObjectDomain;
  maxFileSize: number;
}

export function s3Domain({ tx, project, backend, objects, maxFileSize }: S3Deps) {
  const key = (version: string) => objectKey(project.ref, version);

  async function load(actor: Actor & Owner, bucket: string, name: string, id: string): Promise<MultipartRow> {
    const row = /^[0-9a-f]{32}$/.test(id)
      ? await tx(SERVICE, async (c) => (await c.query<MultipartRow>(
        'select * from storage.s3_multipart_uploads where id = $1 and bucket_id = $2 and key = $3', [id, bucket, name])).rows[0])
      : undefined;
    // an upload belongs to whoever began it; the service role reaches all
    if (!row || (actor.role !== 'service_role' && (row.owner_id ?? null) !== (actor.sub ?? null))) throw storageErrors.noSuchUpload();
    return row;
  }

  /** The bucket's effective size limit (the bucket's own, under the service's ceiling), as the service reads it. */
  async function limitOf(bucket: string): Promise<number> {
    const b = await tx(SERVICE, (c) => findBucket(c, bucket));
    if (!b) throw storageErrors.noSuchBucket();
    return Math.min(b.file_size_limit ?? Infinity, maxFileSize);
  }

  return {
    /** Keys in byte order after `after`, grouped at the first `delimiter` past `prefix`, as the caller may see them. */
    async listObjects(actor: Actor, bucket: string, q: { prefix: string; delimiter: string; after: string | null; max: number }) {
      bucketId(bucket);
      return tx(actor, async (c) => {
        if (!(await asService(c, actor, () => findBucket(c, bucket)))) throw storageErrors.noSuchBucket();
        const { rows } = await c.query<ListedObject>(
          `with matched as (
             select o.name, o.updated_at, o.metadata,
                    case when $3 <> '' and strpos(substr(o.name, length($2) + 1), $3) > 0
                      then left(o.name, length($2) + strpos(substr(o.name, length($2) + 1), $3) + length($3) - 1) else o.name end as key
             from storage.objects o
             where o.bucket_id = $1 and o.name collate "C" like $4
           )
           select key, bool_or(key <> name) as is_prefix, max(updated_at) as updated_at,
                  (array_agg(metadata ->> 'eTag'))[1] as etag, (array_agg((metadata ->> 'size')::float8))[1] as size
           from matched where $5::text is null or key collate "C" > $5
           group by key order by key collate "C" limit $6`,
          [bucket, q.prefix, q.delimiter, `${likePrefix(q.prefix)}%`, q.after, q.max + 1]);
        return { entries: rows.slice(0, q.max), truncated: rows.length > q.max };
      });
    },

    async createMultipart(actor: Actor & Owner, bucket: string, name: string, head: UploadHead): Promise<string> {
      await objects.prepareUpload(actor, bucket, name, true);
      const id = randomBytes(16).toString('hex');
      await tx(SERVICE, (c) => c.query(
        `insert into storage.s3_multipart_uploads (id, bucket_id, key, owner_id, content_type, cache_control, user_metadata)
         values ($1, $2, $3, $4, $5, $6, $7)`, [id, bucket, name, actor.sub ?? null, head.contentType, head.cacheControl, head.userMetadata]));
      return id;
    },

    /** Stores one part (replacing an earlier upload of the same number); returns its ETag (the MD5 of its bytes). */
    async uploadPart(actor: Actor & Owner, bucket: string, name: string, id: string, part: number, body: Readable): Promise<string> {
      if (!Number.isInteger(part) || part < 1 || part > 10000) throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive');
      await load(actor, bucket, name, id);
      const limit = await limitOf(bucket);
      const version = objects.newVersion();
      const tap = md5Tap(body);
      const { size } = await backend.put(key(version), tap, limit).catch((e) => {
        throw e instanceof BasaltError ? e : storageErrors.backend(e);
      });
      const etag = tap.hex;
      let replaced: string | null = null;
      try {
        await tx(SERVICE, async (c) => {
          const { rows } = await c.query<{ version: string }>(
            'select version from storage.s3_multipart_uploads_parts where upload_id = $1 and part_number = $2 for update', [id, part]);
          replaced = rows[0]?.version ?? null;
          await c.query(
            `insert into storage.s3_multipart_uploads_parts (upload_id, part_number, etag, size, version) values ($1, $2, $3, $4, $5)
             on conflict (upload_id, part_number) do update set etag = excluded.etag, size = excluded.size, version = excluded.version, created_at = now()`,
            [id, part, etag, size, version]);
        });
      } catch (e) {
        await objects.dropVersions([version]);
        // the upload was completed or aborted while this part was on its way (its row is gone: a foreign key error)
        throw (e as BasaltError).code === 'NoSuchBucket' ? storageErrors.noSuchUpload() : e;
      }
      if (replaced) await objects.dropVersions([replaced]);
      return etag;
    },

    async listParts(actor: Actor & Owner, bucket: string, name: string, id: string, after: number, max: number) {
      const upload = await load(actor, bucket, name, id);
      const parts = await tx(SERVICE, async (c) => (await c.query<PartRow>(
        `select part_number, etag, size::float8 as size, version, created_at from storage.s3_multipart_uploads_parts
         where upload_id = $1 and part_number > $2 order by part_number limit $3`, [id, after, max + 1])).rows);
      return { upload, parts: parts.slice(0, max), truncated: parts.length > max };
    },

    async listUploads(actor: Actor & Owner, bucket: string, prefix: string, max: number) {
      bucketId(bucket);
      if (!(await tx(SERVICE, (c) => findBucket(c, bucket)))) throw storageErrors.noSuchBucket();
      const rows = await tx(SERVICE, async (c) => (await c.query<MultipartRow>(
        `select * from storage.s3_multipart_uploads where bucket_id = $1 and key collate "C" like $2 and ($3 or owner_id is not distinct from $4)
         order by key collate "C", created_at limit $5`, [bucket, `${likePrefix(prefix)}%`, actor.role === 'service_role', actor.sub ?? null, max + 1])).rows);
      return { uploads: rows.slice(0, max), truncated: rows.length > max };
    },

    /**
     * Joins the listed parts (ascending, each with the ETag it was given) into one new object version and commits
     * it as the caller; the upload and its parts' bytes go once the object is there. ETag: S3's MD5 of the parts'
     * MD5s and their count.
     */
    async complete(actor: Actor & Owner, bucket: string, name: string, id: string, listed: { part: number; etag: string }[]) {
      const upload = await load(actor, bucket, name, id);
      if (listed.length === 0) throw s3Errors.invalidArgument('You must specify at least one part');
      const stored = new Map((await tx(SERVICE, async (c) => (await c.query<PartRow>(
        'select part_number, etag, size::float8 as size, version, created_at from storage.s3_multipart_uploads_parts where upload_id = $1', [id])).rows))
        .map((p) => [p.part_number, p]));
      const parts: PartRow[] = [];
      for (const [i, l] of listed.entries()) {
        if (i > 0 && l.part <= listed[i - 1].part) throw s3Errors.invalidPartOrder();
        const p = stored.get(l.part);
        if (!p || p.etag !== l.etag.replace(/^"|"$/g, '')) throw s3Errors.invalidPart(l.part);
        parts.push(p);
      }
      const version = objects.newVersion();
      const joined = Readable.from((async function* () {
        for (const p of parts) yield* (await backend.get(key(p.version))) as AsyncIterable<Buffer>;
      })());
      const { size } = await backend.put(key(version), joined, await limitOf(bucket)).catch(async (e) => {
        await objects.dropVersions([version]);
        throw e instanceof BasaltError ? e : storageErrors.backend(e);
      });
      const etag = `"${md5Hex(Buffer.concat(parts.map((p) => Buffer.from(p.etag, 'hex'))))}-${parts.length}"`;
      const head = { contentType: upload.content_type, cacheControl: upload.cache_control, userMetadata: upload.user_metadata };
      const done = await objects.commit(actor, bucket, name, version, size, head, true, etag);
      await this.abort(SERVICE, bucket, name, id);
      return { ...done, etag };
    },

    async abort(actor: Actor & Owner, bucket: string, name: string, id: string): Promise<void> {
      await load(actor, bucket, name, id);
      const versions = await tx(SERVICE, async (c) => {
        const { rows } = await c.query<{ version: string }>('select version from storage.s3_multipart_uploads_parts where upload_id = $1', [id]);
        await c.query('delete from storage.s3_multipart_uploads where id = $1', [id]);
        return rows.map((r) => r.version);
      });
      await objects.dropVersions(versions);
    },

    /** The object a key names, checked, for routes that read it from the path. */
    name: (n: string) => objectName(n),
  };
}

export type S3Domain = ReturnType<typeof s3Domain>;
