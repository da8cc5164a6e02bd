// Resumable uploads (TUS 1.0.0, as Supabase serves them at /storage/v1/upload/resumable): created with the
// object's bucket, name and length after the same checks as an upload, filled by PATCHes at the recorded
// offset (a retry after an interruption resumes there), and committed as the caller once complete.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BasaltError } from '@basalt/errors';
import type { Project } from '@basalt/tenancy';
import { objectKey, type Backend } from '../backend/index.js';
import { storageErrors } from '../errors.js';
import { mimeAllowed } from '../keys.js';
import { objectContentType } from './mime.js';
import { SERVICE, type Actor, type Tx } from '../db/tx.js';
import type { ObjectDomain, Owner, UploadHead } from './objects.js';

export interface ResumableRow {
  id: string;
  bucket_id: string;
  name: string;
  owner_id: string | null;
  upsert: boolean;
  content_type: string;
  cache_control: string;
  user_metadata: Record<string, unknown> | null;
  upload_length: number;
  upload_offset: number;
  version: string;
  s3_upload_id: string | null;
  parts: { part: number; etag: string }[];
}

const COLUMNS = `id, bucket_id, name, owner_id, upsert, content_type, cache_control, user_metadata, upload_length::float8 as upload_length,
  upload_offset::float8 as upload_offset, version, s3_upload_id, parts`;

/** a PATCH body held in memory by the S3 backend is at most this */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

/** TUS answers with plain HTTP statuses (tus-js-client reads them), not Storage's 400-with-statusCode. */
const tusError = (status: number, code: string, message: string) =>
  new BasaltError(status, code, message, { details: { statusCode: String(status), error: code } });
export const tusErrors = {
  notFound: () => tusError(404, 'NoSuchUpload', 'Upload not found'),
  offsetMismatch: (expected: number) => tusError(409, 'InvalidUploadOffset', `Upload-Offset must be ${expected}`),
  badRequest: (message: string) => tusError(400, 'InvalidRequest', message),
};

export interface ResumableDeps {
  tx: Tx;
  project: Project;
  backend: Backend;
  objects: ObjectDomain;
}

export function resumableDomain({ tx, project, backend, objects }: ResumableDeps) {
  const key = (version: string) => objectKey(project.ref, version);

  async function load(actor: Actor & Owner, id: string): Promise<ResumableRow> {
    if (!/^[0-9a-f]{32}$/.test(id)) throw tusErrors.notFound();
    const row = await tx(SERVICE, async (c) => (await c.query<ResumableRow>(`select ${COLUMNS} from storage.resumable_uploads where id = $1`, [id])).rows[0]);
    // an upload belongs to whoever created it (anon uploads to the anon role); the service role reaches all
    if (!row || (actor.role !== 'service_role' && (row.owner_id ?? null) !== (actor.sub ?? null))) throw tusErrors.notFound();
    return row;
  }

  async function drop(row: ResumableRow): Promise<void> {
    await tx(SERVICE, (c) => c.query('delete from storage.resumable_uploads where id = $1', [row.id]));
  }

  return {
    async create(actor: Actor & Owner, bucket: string, name: string, length: number, head: UploadHead, upsert: boolean): Promise<ResumableRow> {
      const type = objectContentType(head.contentType);
      const checked = await objects.prepareUpload(actor, bucket, name, upsert, length);
      if (!name.endsWith('.emptyFolderPlaceholder') && !mimeAllowed(type, checked.mimes)) throw storageErrors.invalidMime(type);
      const version = objects.newVersion();
      const upload = await backend.beginParts(key(version));
      const id = randomBytes(16).toString('hex');
      try {
        return await tx(SERVICE, async (c) => (await c.query<ResumableRow>(
          `insert into storage.resumable_uploads (id, bucket_id, name, owner_id, upsert, content_type, cache_control, user_metadata, upload_length, version, s3_upload_id)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${COLUMNS}`,
          [id, bucket, name, actor.sub ?? null, upsert, type, head.cacheControl, head.userMetadata, length, version, upload])).rows[0]);
      } catch (e) {
        await backend.abortParts(key(version), upload);
        throw e;
      }
    },

    load,

    /** Appends a chunk at `offset`; completes the object when the last byte arrives. Returns the new offset. */
    async patch(actor: Actor & Owner, id: string, offset: number, body: Readable, declared?: number): Promise<number> {
      const row = await load(actor, id);
      if (offset !== row.upload_offset) throw tusErrors.offsetMismatch(row.upload_offset);
      const remaining = row.upload_length - offset;
      if (declared !== undefined && declared > remaining) throw storageErrors.tooLarge();
      const part = row.parts.length + 1;
      const last = declared !== undefined && declared === remaining;
      const written = await backend.writePart(key(row.version), { upload: row.s3_upload_id, part, offset, last },
        body, Math.min(remaining, backend.kind === 's3' ? MAX_CHUNK_BYTES : remaining)).catch((e) => {
        if (e instanceof BasaltError) throw e;
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'NoSuchUpload') throw tusErrors.notFound(); // given up by the sweeper
        if ((e as Error).message === 'aborted') throw tusErrors.badRequest('The chunk was interrupted');
        throw storageErrors.backend(e);
      });
      const next = offset + written.size;
      const parts = backend.kind === 's3' && written.size > 0 ? [...row.parts, { part, etag: written.etag }] : row.parts;
      const moved = await tx(SERVICE, async (c) => (await c.query(
        `update storage.resumable_uploads set upload_offset = $3, parts = $4, updated_at = now() where id = $1 and upload_offset = $2`,
        [id, offset, next, JSON.stringify(parts)])).rowCount);
      if (!moved) throw tusErrors.offsetMismatch(offset); // another PATCH of the same offset won
      if (next === row.upload_length) {
        await backend.completeParts(key(row.version), row.s3_upload_id, parts);
        const head = { contentType: row.content_type, cacheControl: row.cache_control, userMetadata: row.user_metadata };
        try {
          await objects.commit(actor, row.bucket_id, row.name, row.version, row.upload_length, head, row.upsert);
        } finally {
          await drop(row);
        }
      }
      return next;
    },

    async remove(actor: Actor & Owner, id: string): Promise<void> {
      const row = await load(actor, id);
      await backend.abortParts(key(row.version), row.s3_upload_id);
      await drop(row);
    },
  };
}

export type ResumableDomain = ReturnType<typeof resumableDomain>;
