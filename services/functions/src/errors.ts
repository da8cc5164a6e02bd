// Errors of the functions service: the relay's {code, message} (functions-js reads x-relay-error) and the
// management API's {code, message}.
import { BasaltError } from '@basalt/errors';

const relay = { 'x-relay-error': 'true' };

export const fnErrors = {
  missingAuth: () => new BasaltError(401, '401', 'Missing authorization header'),
  invalidJwt: () => new BasaltError(401, '401', 'Invalid JWT'),
  notFound: (slug: string) => new BasaltError(404, 'function_not_found', `Function ${slug} not found`),
  projectNotFound: () => new BasaltError(404, 'project_not_found', 'Project not found'),
  versionNotFound: (v: number) => new BasaltError(404, 'version_not_found', `Version ${v} not found`),
  bundle: (message: string) => new BasaltError(400, 'bundle_failed', message),
  validation: (message: string, details?: unknown) => new BasaltError(400, 'validation_failed', message, { details }),
  unauthorized: () => new BasaltError(401, 'unauthorized', 'A valid platform token (Authorization: Bearer bsp_…) is required'),
  forbidden: () => new BasaltError(403, 'forbidden', 'This token has no access to the project'),
  rateLimited: () => new BasaltError(429, 'rate_limited', 'Too many invocations', { headers: { 'retry-after': '1' } }),
  timeout: (ms: number) => new BasaltError(504, 'function_timeout', `Function exceeded its wall-time limit of ${ms} ms`, { headers: relay }),
  memory: (mb: number) => new BasaltError(546, 'function_resource_limit', `Function exceeded its memory limit of ${mb} MB`, { headers: relay }),
  boot: (message: string) => new BasaltError(503, 'function_boot_failed', `Function could not start: ${message}`, { headers: relay }),
};
