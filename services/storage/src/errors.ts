// Storage's errors as storage-js expects them: HTTP 400 for nearly everything, the logical status as a string in
// the body's statusCode, a stable code and the legacy error name (api-compat §3.6).
import { BasaltError, fromPgError } from '@basalt/errors';

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
  invalidRequest: (message: string) => storageError(400, 'InvalidRequest', 'Invalid Input', message),
  tooLarge: () => storageError(413, 'EntityTooLarge', 'Payload too large', 'The object exceeded the maximum allowed size'),
  invalidMime: (mime: string) => storageError(415, 'InvalidMimeType', 'invalid_mime_type', `mime type ${mime.slice(0, 100)} is not supported`),
  invalidRange: () => storageError(416, 'InvalidRange', 'invalid_range', 'The requested range is not satisfiable', 416),
  accessDenied: (message: string) => storageError(403, 'AccessDenied', 'Unauthorized', message),
  invalidJwt: (message: string) => storageError(400, 'InvalidJWT', 'Unauthorized', message),
  invalidSignature: (message = 'Invalid signature') => storageError(400, 'InvalidSignature', 'Unauthorized', message),
  missingAuth: () => storageError(403, 'AccessDenied', 'Unauthorized', 'Access denied: JWT is not authenticated', 403),
  tenantNotFound: () => storageError(404, 'TenantNotFound', 'Tenant not found', 'Tenant not found'),
  backend: (cause: unknown) => storageError(503, 'S3Error', 'Service Unavailable', 'The storage backend is unavailable', 503, cause),
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
