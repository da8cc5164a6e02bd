// The backend the configuration names.
import type { Config } from '../config.js';
import { FsBackend } from './fs.js';
import type { Backend } from './types.js';

export type { Backend, ByteRange, Stored } from './types.js';

export async function createBackend(c: Config): Promise<Backend> {
  if (c.STORAGE_BACKEND === 'fs') return new FsBackend(c.STORAGE_FS_ROOT);
  // loaded only when configured: the S3 client alone is a quarter of an idle service's memory
  const { S3Backend } = await import('./s3.js');
  const s3 = new S3Backend({ endpoint: c.S3_ENDPOINT!, bucket: c.S3_BUCKET, accessKey: c.S3_ACCESS_KEY!, secretKey: c.S3_SECRET_KEY!, region: c.S3_REGION });
  await s3.ensureBucket(c.S3_REGION);
  return s3;
}

/** Backend keys: an object version, an asset blob, a rendered variant. Only [a-z0-9] parts, so no client input is ever a path. */
export const objectKey = (ref: string, version: string) => `${ref}/o/${version}`;
export const assetKey = (ref: string, sha256: string) => `${ref}/a/${sha256}`;
/** a rendered image variant, kept as long as the object version it was made from */
export const renderKey = (ref: string, version: string, variant: string) => `${ref}/r/${version}${variant}`;
