// Any S3-compatible store through the minio client: one global bucket, every project under its own key prefix.
// Uploads of unknown length are sent as multipart uploads of PART_BYTES parts, so memory stays at one part per
// upload however large the object (minio's own putObject would buffer parts of up to 500 MB).
import { Readable } from 'node:stream';
import * as Minio from 'minio';
import { storageErrors } from '../errors.js';
import { Meter } from './meter.js';
import type { Backend, ByteRange, Stored, StagedPart } from './types.js';

const PART_BYTES = 8 * 1024 * 1024;
/** S3's smallest part but the last */
const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface S3Options {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

const notFound = (e: unknown) => {
  const code = (e as { code?: string }).code;
  return code === 'NoSuchKey' || code === 'NotFound' ? storageErrors.noSuchKey() : e;
};

export class S3Backend implements Backend {
  readonly kind = 's3' as const;
  readonly client: Minio.Client;
  readonly bucket: string;

  constructor(o: S3Options) {
    const u = new URL(o.endpoint);
    this.client = new Minio.Client({
      endPoint: u.hostname,
      port: u.port ? Number(u.port) : undefined,
      useSSL: u.protocol === 'https:',
      accessKey: o.accessKey,
      secretKey: o.secretKey,
      region: o.region,
      pathStyle: true,
    });
    this.bucket = o.bucket;
  }

  /** Creates the global bucket when it is missing (a fresh MinIO); an existing one is left as it is. */
  async ensureBucket(region: string): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) await this.client.makeBucket(this.bucket, region);
  }

  /** S3 PUTs and completed multipart uploads are atomic already, shared or not. */
  async put(key: string, body: Readable, maxBytes: number): Promise<Stored> {
    const meter = new Meter(maxBytes);
    body.on('error', (e) => meter.destroy(e));
    body.pipe(meter);
    let uploadId: string | null = null;
    const parts: { part: number; etag: string }[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flushPart = async () => {
      const chunk = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      uploadId ??= await this.client.initiateNewMultipartUpload(this.bucket, key, {});
      const part = parts.length + 1;
      const r = await this.client.uploadPart({ bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} }, chunk);
      parts.push({ part, etag: r.etag });
    };
    try {
      for await (const chunk of meter as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= PART_BYTES) await flushPart();
      }
      if (uploadId === null) {
        const whole = Buffer.concat(pending, pendingBytes);
        await this.client.putObject(this.bucket, key, whole, whole.length);
      } else {
        if (pendingBytes > 0) await flushPart();
        await this.client.completeMultipartUpload(this.bucket, key, uploadId, parts);
      }
    } catch (e) {
      if (uploadId !== null) await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => undefined);
      throw e;
    }
    return meter.result();
  }

  async beginParts(key: string): Promise<string | null> {
    return this.client.initiateNewMultipartUpload(this.bucket, key, {});
  }

  /** A chunk is buffered whole (bounded by maxBytes) and sent as one S3 part when placed. */
  async stagePart(key: string, body: Readable, maxBytes: number): Promise<StagedPart> {
    const meter = new Meter(maxBytes);
    body.on('error', (e) => meter.destroy(e));
    body.pipe(meter);
    const chunks: Buffer[] = [];
    for await (const c of meter as AsyncIterable<Buffer>) chunks.push(c);
    let data: Buffer | null = Buffer.concat(chunks);
    const size = data.length;
    return {
      size,
      place: async (at) => {
        if (!data) throw new Error('a discarded part cannot be placed');
        if (!at.last && size < MIN_PART_BYTES) {
          throw storageErrors.invalidRequest(`Every chunk but the last must be at least ${MIN_PART_BYTES / 1024 / 1024} MiB on this storage backend`);
        }
        const r = await this.client.uploadPart({ bucketName: this.bucket, objectName: key, uploadID: at.upload!, partNumber: at.part, headers: {} }, data);
        return { etag: r.etag };
      },
      discard: async () => {
        data = null;
      },
    };
  }

  async completeParts(key: string, upload: string | null, parts: { part: number; etag: string }[]): Promise<void> {
    if (parts.length > 0) return void (await this.client.completeMultipartUpload(this.bucket, key, upload!, parts));
    await this.abortParts(key, upload); // an empty object: no part to complete with
    await this.client.putObject(this.bucket, key, Buffer.alloc(0), 0);
  }

  async abortParts(key: string, upload: string | null): Promise<void> {
    if (upload) await this.client.abortMultipartUpload(this.bucket, key, upload).catch(() => undefined);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      return range
        ? await this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1)
        : await this.client.getObject(this.bucket, key);
    } catch (e) {
      throw notFound(e);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    // Service keys are plain ASCII segments, so the copy source needs no escaping.
    await this.client.copyObject(this.bucket, to, `/${this.bucket}/${from}`, new Minio.CopyConditions()).catch((e) => {
      throw notFound(e);
    });
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length) await this.client.removeObjects(this.bucket, keys);
  }

  /** nothing is staged outside memory here (a TUS chunk is held until it is sent as a part) */
  async removeStaged(): Promise<number> {
    return 0;
  }

  async *list(prefix: string): AsyncIterable<{ key: string; modified: Date }> {
    for await (const item of this.client.listObjectsV2(this.bucket, prefix === '' ? '' : `${prefix}/`, true) as AsyncIterable<{ name?: string; lastModified?: Date }>) {
      if (item.name) yield { key: item.name, modified: item.lastModified ?? new Date() };
    }
  }

  async removePrefix(prefix: string): Promise<void> {
    const batch: string[] = [];
    for await (const item of this.client.listObjectsV2(this.bucket, `${prefix}/`, true) as AsyncIterable<{ name?: string }>) {
      if (item.name) batch.push(item.name);
      if (batch.length === 1000) await this.remove(batch.splice(0));
    }
    await this.remove(batch);
  }
}
