// Storage's errors as storage-js expects them: HTTP 400 for nearly everything, the logical status as a string in
// the body's statusCode, a stable code and the legacy error name (api-compat §3.6).
import { BasaltError, fromPgError } from '@basalt/errors';
import { ValidationFailed } from '@basalt/http';
import { readOnlyOverQuota } from '@basalt/tenancy';

export interface StorageDetails {
  statusCode: string;
  error: string;
}

const storageError = (status: number, code: string, error: string, message: string, http = 400, cause?: unknown) =>
  new BasaltError(http, code, message, { details: { statusCode: String(status), error } satisfies StorageDetails, cause });

export const storageErrors = {
  noSuchBucket: () => storageError(404, 'NoSuchBucket', 'Bucket not found', 'Bucket not found'),
  noSuchKey: () => storageError(404, 'NoSuchKey', 'not_found', 'Object not found'),
  noSuchUpload: () => storageError(404, 'NoSuchUpload', 'not_found', 'Upload not found'),
  keyExists: () => storageError(409, 'KeyAlreadyExists', 'Duplicate', 'The resource already exists'),
  bucketExists: () => storageError(409, 'BucketAlreadyExists', 'Duplicate', 'The resource already exists'),
  bucketNotEmpty: () => storageError(409, 'ResourceNotEmpty', 'InvalidRequest', 'The bucket you tried to delete is not empty'),
  invalidKey: (key: string) => storageError(400, 'InvalidKey', 'InvalidKey', `Invalid key: ${key.slice(0, 200)}`),
  invalidBucketName: (name: string) => storageError(400, 'InvalidBucketName', 'Invalid Input', `Bucket name invalid: ${String(name).slice(0, 200)}`),
  invalidFileSizeLimit: () => storageError(400, 'InvalidRequest', 'InvalidRequest', 'Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B'),
  invalidRequest: (message: string) => storageError(400, 'InvalidRequest', 'Invalid Input', message),
  tooLarge: () => storageError(413, 'EntityTooLarge', 'Payload too large', 'The object exceeded the maximum allowed size'),
  /** the plan's quotas (project.quotas): the error names the quota */
  objectQuota: (max: number) => storageError(413, 'EntityTooLarge', 'max_object_bytes',
    `The object exceeded the maximum allowed size: the project's plan allows ${max} bytes per object (max_object_bytes)`),
  /** a write refused because the platform made the project's database read-only over `quota` */
  readOnly: (quota: string, message: string) => storageError(405, 'QuotaExceeded', quota, message),
  storageQuota: (max: number) => storageError(413, 'QuotaExceeded', 'storage_bytes',
    `The project's storage is full: its plan allows ${max} bytes of objects in total (storage_bytes)`),
  // the value itself is not repeated: it is what a client crafted
  malformedMime: () => storageError(400, 'InvalidMimeType', 'invalid_mime_type', 'Content-Type must be exactly one type/subtype with optional parameters'),
  invalidMime: (mime: string) => storageError(415, 'InvalidMimeType', 'invalid_mime_type', `mime type ${mime.slice(0, 100)} is not supported`),
  invalidRange: () => storageError(416, 'InvalidRange', 'invalid_range', 'The requested range is not satisfiable', 416),
  accessDenied: (message: string) => storageError(403, 'AccessDenied', 'Unauthorized', message),
  invalidJwt: (message: string) => storageError(400, 'InvalidJWT', 'Unauthorized', message),
  invalidSignature: (message = 'Invalid signature') => storageError(400, 'InvalidSignature', 'Unauthorized', message),
  // what Storage's header schema answers a request with no Authorization (and here no apikey either)
  missingAuth: () => storageError(400, 'InvalidRequest', 'Error', "headers must have required property 'authorization'"),
  tenantNotFound: () => storageError(404, 'TenantNotFound', 'Tenant not found', 'Tenant not found'),
  backend: (cause: unknown) => storageError(503, 'S3Error', 'Service Unavailable', 'The storage backend is unavailable', 503, cause),
};

// The vector API answers with the real HTTP status (Storage registers its vector routes with respectStatusCode),
// the status again as a string in statusCode, and S3 Vectors' exception names as the code.
const vectorError = (status: number, code: string, message: string) => storageError(status, code, code, message, status);

export const vectorErrors = {
  notFound: (resource: string, name: string) => vectorError(404, 'NotFoundException', `${resource} "${name}" not found`),
  conflict: (resource: string, name: string) => vectorError(409, 'ConflictException', `${resource} "${name}" already exists`),
  bucketNotEmpty: (name: string) => vectorError(400, 'VectorBucketNotEmpty', `Vector Bucket "${name}" not empty`),
  maxBuckets: (max: number) => vectorError(400, 'S3VectorMaxBucketsExceeded', `Maximum number of buckets exceeded. Max allowed is ${max}.`),
  maxIndexes: (max: number) => vectorError(400, 'S3VectorMaxIndexesExceeded', `Maximum number of indexes exceeded. Max allowed is ${max}.`),
  invalid: (message: string) => vectorError(400, 'InvalidParameter', message),
  serviceRoleOnly: () => vectorError(403, 'AccessDenied', 'Vector buckets are reached with the service role key only'),
};

/** Postgres errors met while running as the caller: RLS refusals, duplicates, unknown buckets. */
export function fromStorageDbError(err: unknown): unknown {
  if (err instanceof BasaltError) return err;
  const code = (err as { code?: string }).code;
  const message = (err as Error).message ?? '';
  if (code === '42501') return storageErrors.accessDenied(message);
  if (code === '23505') return storageErrors.keyExists();
  if (code === '23503') return storageErrors.noSuchBucket();
  return fromPgError(err);
}

/**
 * Anything thrown under /storage/v1 as a Storage error: schema validation, unparsable or oversized JSON bodies and
 * the framework's own 4xx refusals become Storage's 400-with-statusCode, Postgres errors are mapped as above.
 */
export function toStorageError(err: unknown, project?: { readOnlyReason: string | null }): unknown {
  if (err instanceof ValidationFailed) return storageErrors.invalidRequest(err.message);
  const overQuota = readOnlyOverQuota(err, project);
  if (overQuota) return storageErrors.readOnly(overQuota.quota, overQuota.message);
  if (err instanceof BasaltError) return err.code === 'invalid_json' ? storageErrors.invalidRequest(err.message) : err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return storageErrors.tooLarge();
  // the framework refuses a request type that is not one type/subtype before a handler runs: for an upload that
  // type is the object's, and this is the refusal mime.ts gives it
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return storageErrors.malformedMime();
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return storageErrors.invalidRequest(e.message ?? 'Invalid request');
  return fromStorageDbError(err);
}
