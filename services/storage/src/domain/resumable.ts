// Resumable uploads (TUS 1.0.0, as Supabase serves them at /storage/v1/upload/resumable): created with the
// object's bucket, name and length after the same checks as an upload, filled by PATCHes at the recorded
// offset (a retry after an interruption resumes there), and committed as the caller once complete.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { BasaltError } from '@basalt/errors';
import type { Project } from '@basalt/tenancy';
import { objectKey, type Backend } from '../backend/index.js';
import type { StagedPart } from '../backend/types.js';
import { resumableUploads as uploads, type ResumableRow } from '../db/resumable-uploads.js';
import { storageErrors } from '../errors.js';
import { mimeAllowed } from '../keys.js';
import { objectContentType } from './mime.js';
import { SERVICE, type Actor, type Tx } from '../db/tx.js';
import type { ObjectDomain, Owner, UploadHead } from './objects.js';

/** a PATCH body held in memory by the S3 backend is at most this */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

/** TUS answers with plain HTTP statuses (tus-js-client reads them), not Storage's 400-with-statusCode. */
const tusError = (status: number, code: string, message: string) =>
  new BasaltError(status, code, message, { details: { statusCode: String(status), error: code } });
export const tusErrors = {
  notFound: () => tusError(404, 'NoSuchUpload', 'Upload not found'),
  offsetMismatch: (expected: number) => tusError(409, 'InvalidUploadOffset', `Upload-Offset must be ${expected}`),
  /** tus-js-client retries a 423 after a HEAD, as it does a 409 */
  locked: () => tusError(423, 'UploadLocked', 'Another chunk of this upload is being written; retry shortly'),
  badRequest: (message: string) => tusError(400, 'InvalidRequest', message),
};

/** A backend failure as the client should see it. */
function writeFailure(e: unknown): never {
  if (e instanceof BasaltError) throw e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'NoSuchUpload') throw tusErrors.notFound(); // given up by the sweeper
  if ((e as Error).message === 'aborted') throw tusErrors.badRequest('The chunk was interrupted');
  throw storageErrors.backend(e);
}

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
    const row = await tx(SERVICE, (c) => uploads.find(c, id));
    // an upload belongs to whoever created it (anon uploads to the anon role); the service role reaches all
    if (!row || (actor.role !== 'service_role' && (row.owner_id ?? null) !== (actor.sub ?? null))) throw tusErrors.notFound();
    return row;
  }

  /**
   * Writes a received chunk into the object, in the transaction that holds the upload's row: of two PATCHes at one
   * offset the first here wins, one that comes while it is placing is 423 (that chunk may yet fail, so the offset is
   * not known to be stale) and one that comes after is 409, as TUS says of an offset that moved.
   *
   * The row is locked only for the placing (an S3 part upload of at most MAX_CHUNK_BYTES, or a local rename or copy),
   * not while the client streams: a PATCH holds a pool connection for as long as its lock, a project has five per
   * replica, and a few slow clients holding theirs for minutes would stall every other request of the project; a
   * client's own retry would also be locked out by its stalled first attempt. Staging first is what that costs: the
   * chunk in memory on S3 (a part is sent whole anyway), a second local write of every chunk but the first on a
   * filesystem. (Session advisory locks would pin a connection the same way; a claim column is a schema change.)
   *
   * The chunk that completes the upload removes its row here, in the same transaction: the finish is that PATCH's
   * alone. Left in place until the object was committed, the row let an empty PATCH at the final offset finish the
   * upload a second time, and a second commit of the same version drops its bytes.
   */
  async function place(c: pg.PoolClient, row: ResumableRow, offset: number, staged: StagedPart) {
    const now = await uploads.claim(c, row.id);
    if (now === 'locked') throw tusErrors.locked();
    if (!now) throw tusErrors.notFound(); // finished or terminated meanwhile
    if (now.upload_offset !== offset) throw tusErrors.offsetMismatch(now.upload_offset);
    const next = offset + staged.size;
    let parts = now.parts;
    if (staged.size > 0) {
      const part = parts.length + 1;
      const at = { upload: row.s3_upload_id, part, offset, last: next === row.upload_length };
      const { etag } = await staged.place(at).catch(writeFailure);
      if (backend.kind === 's3') parts = [...parts, { part, etag }];
    }
    if (next === row.upload_length) await uploads.remove(c, row.id);
    else await uploads.advance(c, row.id, next, parts);
    return { next, parts };
  }

  /** Makes the upload's bytes the object (its row is gone already); a failure ends the upload, its parts given up. */
  async function finish(actor: Actor & Owner, row: ResumableRow, parts: ResumableRow['parts']): Promise<void> {
    try {
      await backend.completeParts(key(row.version), row.s3_upload_id, parts);
    } catch (e) {
      await backend.abortParts(key(row.version), row.s3_upload_id).catch(() => undefined);
      throw e;
    }
    const head = { contentType: row.content_type, cacheControl: row.cache_control, userMetadata: row.user_metadata };
    // a commit that fails drops the version's bytes itself
    await objects.commit(actor, row.bucket_id, row.name, row.version, row.upload_length, head, row.upsert);
  }

  return {
    async create(actor: Actor & Owner, bucket: string, name: string, length: number, head: UploadHead, upsert: boolean): Promise<ResumableRow> {
      const type = objectContentType(head.contentType);
      const checked = await objects.prepareUpload(actor, bucket, name, upsert, length);
      if (!name.endsWith('.emptyFolderPlaceholder') && !mimeAllowed(type, checked.mimes)) throw storageErrors.invalidMime(type);
      const version = objects.newVersion();
      const upload = await backend.beginParts(key(version));
      try {
        return await tx(SERVICE, (c) => uploads.insert(c, {
          id: randomBytes(16).toString('hex'), bucket_id: bucket, name, owner_id: actor.sub ?? null, upsert, content_type: type,
          cache_control: head.cacheControl, user_metadata: head.userMetadata, upload_length: length, version, s3_upload_id: upload,
        }));
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
      const max = backend.kind === 's3' ? Math.min(remaining, MAX_CHUNK_BYTES) : remaining;
      const staged = await backend.stagePart(key(row.version), body, max).catch(writeFailure);
      let placed;
      try {
        placed = await tx(SERVICE, (c) => place(c, row, offset, staged));
      } finally {
        // a staged copy that cannot be removed costs disk, never the answer
        await staged.discard().catch(() => undefined);
      }
      if (placed.next === row.upload_length) await finish(actor, row, placed.parts);
      return placed.next;
    },

    /**
     * Terminates an upload: its row goes first, with no chunk being placed (423 while one is), and only then its bytes,
     * so no PATCH writes after them. One whose last byte is in has no row any more: it is finishing, and not touched.
     */
    async remove(actor: Actor & Owner, id: string): Promise<void> {
      const row = await load(actor, id);
      await tx(SERVICE, async (c) => {
        const now = await uploads.claim(c, row.id);
        if (now === 'locked') throw tusErrors.locked();
        if (!now) throw tusErrors.notFound();
        await uploads.remove(c, row.id);
      });
      await backend.abortParts(key(row.version), row.s3_upload_id);
    },
  };
}

export type ResumableDomain = ReturnType<typeof resumableDomain>;
