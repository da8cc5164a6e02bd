// Storage service configuration; the only reader of process.env.
import { resolve } from 'node:path';
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8004),
  /** where object bytes live: the local filesystem, or any S3-compatible store (MinIO, R2, AWS) */
  STORAGE_BACKEND: z.enum(['fs', 's3']).default('fs'),
  /** root directory of the filesystem backend; every project is a sub-directory */
  STORAGE_FS_ROOT: z.string().default('.basalt/storage').transform((p) => resolve(p)),
  S3_ENDPOINT: z.string().url().optional(),
  /** the one global bucket; every project's objects live under its own key prefix */
  S3_BUCKET: z.string().default('basalt'),
  S3_ACCESS_KEY: z.string().optional(),
  S3_SECRET_KEY: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  /** the region the S3 protocol endpoint names (GetBucketLocation); any region a client signs for is accepted */
  STORAGE_S3_PROTOCOL_REGION: z.string().default('us-east-1'),
  /** the longest lifetime of a signed token the CDN host accepts (seconds): reads of non-public files stay short-lived */
  STORAGE_CDN_MAX_TOKEN_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** ceiling for one object whatever the bucket says (bytes) */
  STORAGE_MAX_FILE_SIZE: z.coerce.number().int().min(1).default(5 * 1024 ** 3),
  /** lifetime of signed upload URLs (seconds), as Supabase's default */
  STORAGE_SIGNED_UPLOAD_EXPIRES: z.coerce.number().int().min(60).default(7200),
  /** how often one replica looks for stored bytes no row points at, and how old they must be to go */
  STORAGE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(500).default(60 * 60 * 1000),
  STORAGE_ORPHAN_MIN_AGE_MS: z.coerce.number().int().min(60_000).default(60 * 60 * 1000),
  /** vector buckets per project, and indexes per vector bucket */
  STORAGE_VECTOR_MAX_BUCKETS: z.coerce.number().int().min(1).default(10),
  STORAGE_VECTOR_MAX_INDEXES: z.coerce.number().int().min(1).default(20),
  /** largest JSON body of POST /assets/admin/v1/upload */
  ASSETS_MAX_UPLOAD_BYTES: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
  /** published files kept in memory, all together (bytes; 0 turns it off; counts against the < 150 MB RSS budget), and the largest one kept */
  ASSETS_BLOB_CACHE_BYTES: z.coerce.number().int().min(0).default(16 * 1024 * 1024),
  ASSETS_BLOB_CACHE_MAX_FILE_BYTES: z.coerce.number().int().min(0).default(256 * 1024),
  /** resolved public paths kept per replica, and how long one is trusted should a change message be lost (ms) */
  ASSETS_PATH_CACHE_ENTRIES: z.coerce.number().int().min(0).default(10_000),
  ASSETS_PATH_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5_000),
};

export type Config = ReturnType<typeof loadConfig>;
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const c = load(schema, env);
  if (c.STORAGE_BACKEND === 's3' && (!c.S3_ENDPOINT || !c.S3_ACCESS_KEY || !c.S3_SECRET_KEY)) {
    throw new Error('STORAGE_BACKEND=s3 needs S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY');
  }
  return c;
}
