// The object store settings, under the names and defaults the storage service reads, so one environment serves both.
import { resolve } from 'node:path';
import { z } from '@basalt/config';
import { FsObjectStore } from './fs.js';
import type { ObjectStore } from './types.js';

export const objectStoreConfig = {
  STORAGE_BACKEND: z.enum(['fs', 's3']).default('fs'),
  STORAGE_FS_ROOT: z.string().default('.basalt/storage').transform((p) => resolve(p)),
  S3_ENDPOINT: z.string().url().optional(),
  S3_BUCKET: z.string().default('basalt'),
  S3_ACCESS_KEY: z.string().optional(),
  S3_SECRET_KEY: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
};

export interface ObjectStoreConfig {
  STORAGE_BACKEND: 'fs' | 's3';
  STORAGE_FS_ROOT: string;
  S3_ENDPOINT?: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY?: string;
  S3_SECRET_KEY?: string;
  S3_REGION: string;
}

export async function createObjectStore(c: ObjectStoreConfig): Promise<ObjectStore> {
  if (c.STORAGE_BACKEND === 'fs') return new FsObjectStore(c.STORAGE_FS_ROOT);
  if (!c.S3_ENDPOINT || !c.S3_ACCESS_KEY || !c.S3_SECRET_KEY) throw new Error('STORAGE_BACKEND=s3 needs S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY');
  // loaded only when configured: the S3 client is large
  const { S3ObjectStore } = await import('./s3.js');
  const s3 = new S3ObjectStore({ endpoint: c.S3_ENDPOINT, bucket: c.S3_BUCKET, accessKey: c.S3_ACCESS_KEY, secretKey: c.S3_SECRET_KEY, region: c.S3_REGION });
  await s3.ensureBucket(c.S3_REGION);
  return s3;
}
