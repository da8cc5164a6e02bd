// Where object bytes live. Keys are chosen by the service (<ref>/o/<version>, <ref>/a/<sha256>), never by a client.
import type { Readable } from 'node:stream';
import type { Download } from './download.js';

export interface Stored {
  size: number;
}

export interface PartAt {
  upload: string | null;
  part: number;
  /** where the part's bytes start in the object */
  offset: number;
  /** whether this part completes the object (S3 parts but the last must be at least 5 MiB) */
  last: boolean;
}

/**
 * A TUS chunk received aside: the object is untouched until the chunk is placed, so a chunk that loses its offset
 * to another (or whose upload finished meanwhile) leaves nothing behind but what `discard` removes.
 */
export interface StagedPart {
  readonly size: number;
  /** writes the chunk into the object at `at`; the caller holds the upload, so no other chunk is placed meanwhile */
  place(at: PartAt): Promise<{ etag: string }>;
  /** lets the chunk go, placed or not; safe to call twice */
  discard(): Promise<void>;
}

export interface ByteRange {
  start: number;
  /** inclusive */
  end: number;
}

export interface Backend {
  readonly kind: 'fs' | 's3';
  /**
   * streams body to key; refuses with EntityTooLarge past maxBytes and leaves nothing behind. `shared`: the key
   * may exist and be read while it is written again (content-addressed blobs), so the write must be atomic.
   */
  put(key: string, body: Readable, maxBytes: number, opts?: { shared?: boolean }): Promise<Stored>;
  /** the bytes of key (or of range); NoSuchKey when absent */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * Optional fast path for downloads, for reply.send: opens key (a missing one fails here) and, when piped, writes
   * its bytes (or range) into the response reusing two buffers instead of allocating one per read.
   */
  download?(key: string, range?: ByteRange): Promise<Download>;
  copy(from: string, to: string): Promise<void>;
  /** removes keys; absent ones are ignored */
  remove(keys: string[]): Promise<void>;
  /** removes everything under `<prefix>/` (a deleted project) */
  removePrefix(prefix: string): Promise<void>;
  /** resumable writes (TUS): a key filled in parts; `upload` is the S3 multipart upload id, null on a filesystem */
  beginParts(key: string): Promise<string | null>;
  /** receives a chunk of key's upload, refusing it with EntityTooLarge past maxBytes */
  stagePart(key: string, body: Readable, maxBytes: number): Promise<StagedPart>;
  completeParts(key: string, upload: string | null, parts: { part: number; etag: string }[]): Promise<void>;
  abortParts(key: string, upload: string | null): Promise<void>;
  /** removes files staged for a write and left by a process that died (last written before `before`, ms); how many */
  removeStaged(before: number): Promise<number>;
  /** every key under `<prefix>/` with its last modification, in no particular order */
  list(prefix: string): AsyncIterable<{ key: string; modified: Date }>;
}
