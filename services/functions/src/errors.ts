// Errors of the functions service: the relay's {code, message} (functions-js reads x-relay-error) and the
// management API's {code, message}.
import type { z } from 'zod';
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
  /** a management request body that fails its schema: each bad field by its path inside the body */
  invalidBody: (issues: z.ZodIssue[]) =>
    new BasaltError(400, 'validation_failed', issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), { details: issues }),
  unauthorized: () => new BasaltError(401, 'unauthorized', 'A valid platform token (Authorization: Bearer bsp_…) is required'),
  forbidden: () => new BasaltError(403, 'forbidden', 'This token has no access to the project'),
  rateLimited: () => new BasaltError(429, 'rate_limited', 'Too many invocations', { headers: { 'retry-after': '1' } }),
  timeout: (ms: number) => new BasaltError(504, 'function_timeout', `Function exceeded its wall-time limit of ${ms} ms`, { headers: relay }),
  memory: (mb: number) => new BasaltError(546, 'function_resource_limit', `Function exceeded its memory limit of ${mb} MB`, { headers: relay }),
  cpu: (ms: number) => new BasaltError(546, 'function_resource_limit', `Function exceeded its CPU time limit of ${ms} ms`, { headers: relay }),
  tooLarge: (what: 'request' | 'response', bytes: number) => what === 'request'
    ? new BasaltError(413, 'payload_too_large', `The request body is larger than ${bytes} bytes`)
    : new BasaltError(502, 'response_too_large', `The function's response body is larger than ${bytes} bytes`, { headers: relay }),
  /** the plan's fn_invocations_per_day (project.quotas), used up for the UTC day */
  invocationQuota: (quota: number, retryAfter: number) => new BasaltError(429, 'fn_invocations_per_day',
    `The project has used its plan's ${quota} function invocations for today (fn_invocations_per_day); it resets at 00:00 UTC`,
    { headers: { 'retry-after': String(retryAfter), 'x-ratelimit-limit': String(quota), 'x-ratelimit-remaining': '0' } }),
  /** the client disconnected before the function answered (nginx's 499: only ever seen in the invocation log) */
  clientClosed: () => new BasaltError(499, 'client_closed', 'The client disconnected before the function answered'),
  busy: (n: number) => new BasaltError(429, 'too_many_concurrent_invocations', `The project already runs ${n} invocations`, { headers: { 'retry-after': '1' } }),
  failed: (message: string) => new BasaltError(502, 'function_failed', `Function did not complete: ${message}`, { headers: relay }),
  crashed: (message: string) => new BasaltError(503, 'function_runtime_restarted', `The function runtime restarted during the call: ${message}`, { headers: relay }),
  /** the project's remote target (Cloudflare Workers for Platforms) refused a change or could not be reached; nothing was changed here */
  remoteTarget: (message: string) => new BasaltError(502, 'remote_target_failed', `The functions target (Cloudflare) did not accept the change: ${message}`),
  boot: (message: string) => new BasaltError(503, 'function_boot_failed', `Function could not start: ${message}`, { headers: relay }),
};
