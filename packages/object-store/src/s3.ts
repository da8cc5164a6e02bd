// Any S3-compatible store through the minio client, in the storage service's bucket (one bucket, keys by prefix).
import type { Readable } from 'node:stream';
import * as Minio from 'minio';
import type { ObjectStore } from './types.js';

export interface S3Options {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

/** parts of a multipart upload (S3's smallest but the last is 5 MiB) */
const PART_BYTES = 8 * 1024 * 1024;
const isMissing = (e: unknown) => ['NoSuchKey', 'NotFound'].includes((e as { code?: string }).code ?? '');

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly #client: Minio.Client;
  readonly #bucket: string;

  constructor(o: S3Options) {
    const u = new URL(o.endpoint);
    this.#client = new Minio.Client({
      endPoint: u.hostname,
      port: u.port ? Number(u.port) : undefined,
      useSSL: u.protocol === 'https:',
      accessKey: o.accessKey,
      secretKey: o.secretKey,
      region: o.region,
      pathStyle: true,
    });
    this.#bucket = o.bucket;
  }

  async ensureBucket(region: string): Promise<void> {
    if (!(await this.#client.bucketExists(this.#bucket))) await this.#client.makeBucket(this.#bucket, region);
  }

  /**
   * A PUT, or for more than one part a multipart upload of PART_BYTES parts: memory stays at one part whatever the
   * length (minio's own putObject sizes parts for a 5 TiB object and first lists incomplete uploads, which not
   * every S3-compatible store implements). Both are atomic in S3; a failed multipart upload is aborted.
   */
  async put(key: string, body: Readable): Promise<number> {
    let uploadId: string | null = null;
    const parts: { part: number; etag: string }[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let size = 0;
    const flushPart = async () => {
      const chunk = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      uploadId ??= await this.#client.initiateNewMultipartUpload(this.#bucket, key, {});
      const part = parts.length + 1;
      const r = await this.#client.uploadPart({ bucketName: this.#bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} }, chunk);
      parts.push({ part, etag: r.etag });
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        size += chunk.length;
        if (pendingBytes >= PART_BYTES) await flushPart();
      }
      if (uploadId === null) {
        const whole = Buffer.concat(pending, pendingBytes);
        await this.#client.putObject(this.#bucket, key, whole, whole.length);
      } else {
        if (pendingBytes > 0) await flushPart();
        await this.#client.completeMultipartUpload(this.#bucket, key, uploadId, parts);
      }
    } catch (e) {
      if (uploadId !== null) await this.#client.abortMultipartUpload(this.#bucket, key, uploadId).catch(() => undefined);
      throw e;
    }
    return size;
  }

  async get(key: string): Promise<Readable | null> {
    try {
      return await this.#client.getObject(this.#bucket, key);
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) await this.#client.removeObjects(this.#bucket, keys.slice(i, i + 1000));
  }

  async removePrefix(prefix: string): Promise<void> {
    const batch: string[] = [];
    for await (const item of this.#client.listObjectsV2(this.#bucket, `${prefix}/`, true) as AsyncIterable<{ name?: string }>) {
      if (item.name) batch.push(item.name);
      if (batch.length === 1000) await this.remove(batch.splice(0));
    }
    await this.remove(batch);
  }
}
