// Every error the AI gateway returns, as named factories. The wire shape (OpenAI, Anthropic or the platform's
// {code, message}) is picked per request by wire-shape.ts; `headers` carry Retry-After and x-should-retry.
import { BasaltError } from '@basalt/errors';

// A failure after the upstream may have spent tokens must not be retried by the SDK (it would bill twice).
const NO_RETRY = { 'x-should-retry': 'false' };

// A provider's Retry-After is passed on only as whole seconds up to a minute: openai 6.x and Anthropic 0.x clients
// sleep for whatever they are told (a hostile provider's 99999999 stalls them for years), and a value with control
// characters cannot be sent at all.
const MAX_RETRY_AFTER = 60;
function retryAfterSeconds(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? String(Math.min(MAX_RETRY_AFTER, Math.max(1, Math.ceil(seconds)))) : undefined;
}

export const aiErrors = {
  // management API (platform shape)
  unauthorized: () => new BasaltError(401, 'unauthorized', "The project's service_role key or a platform token is required"),
  forbidden: () => new BasaltError(403, 'forbidden', "The AI management API needs the project's service_role key or a platform token with access to it"),
  projectNotFound: () => new BasaltError(404, 'project_not_found', 'Project not found'),
  providerNotFound: (name: string) => new BasaltError(404, 'provider_not_found', `AI provider "${name}" not found`),
  providerExists: (name: string) => new BasaltError(409, 'provider_exists', `An AI provider named "${name}" already exists`),
  providerInUse: (name: string, models: string[]) =>
    new BasaltError(409, 'provider_in_use', `AI provider "${name}" is used by the routes for ${models.join(', ')}; change the routes first`),
  providerNeedsKey: (type: string) => new BasaltError(400, 'api_key_required', `A provider of type ${type} needs an api_key`),
  providerNeedsUrl: () => new BasaltError(400, 'base_url_required', 'A provider of type openai_compatible needs a base_url'),
  unknownRouteProvider: (name: string) => new BasaltError(400, 'unknown_provider', `Route names provider "${name}", which this project does not have`),
  keyNotFound: (id: string) => new BasaltError(404, 'key_not_found', `AI key ${id} not found`),
  validation: (message: string, details?: unknown) => new BasaltError(400, 'validation_failed', message, { details }),
  badDate: (what: string) => new BasaltError(400, 'invalid_date', `${what} is not a date (use ISO 8601, e.g. 2025-01-31)`),

  // model APIs (OpenAI / Anthropic shapes)
  missingKey: () => new BasaltError(401, 'missing_api_key',
    'No API key provided. Send an AI key (bsk_…) as Authorization: Bearer, x-api-key or apikey'),
  invalidKey: () => new BasaltError(401, 'invalid_api_key', 'Invalid API key'),
  revokedKey: () => new BasaltError(401, 'invalid_api_key', 'This API key has been revoked'),
  wrongProject: () => new BasaltError(401, 'invalid_api_key', 'This API key belongs to another project'),
  userAccessDisabled: () => new BasaltError(403, 'permission_denied', 'Signed-in users may not call models in this project (settings.ai.user_access is off)'),
  roleRefused: (role: string) => new BasaltError(403, 'permission_denied', `A token with role ${role} may not call models; use an AI key`),
  modelNotFound: (model: string) => new BasaltError(404, 'model_not_found', `The model \`${model}\` does not exist or you do not have access to it.`),
  modelNotAllowed: (model: string) => new BasaltError(403, 'model_not_allowed', `This key may not use the model \`${model}\``),
  unsupported: (what: string) => new BasaltError(400, 'unsupported', what),
  invalidRequest: (message: string) => new BasaltError(400, 'invalid_request', message),
  rateLimited: (retryAfter: number) => new BasaltError(429, 'rate_limit_exceeded',
    `Rate limit reached for this key: too many requests per minute. Retry after ${retryAfter} s`, { headers: { 'retry-after': String(retryAfter) } }),
  budgetExhausted: (what: string, retryAfter: number) => new BasaltError(429, 'budget_exceeded', `${what} is used up`, {
    headers: { 'retry-after': String(retryAfter), ...NO_RETRY },
  }),
  /** the plan's ai_tokens_per_day (project.quotas), spent for the UTC day: code and message name the quota */
  tokenQuota: (quota: number, retryAfter: number) => new BasaltError(429, 'ai_tokens_per_day',
    `The project has used its plan's ${quota} AI tokens for today (ai_tokens_per_day); it resets at 00:00 UTC`, {
      headers: { 'retry-after': String(retryAfter), 'x-ratelimit-limit-tokens': String(quota), 'x-ratelimit-remaining-tokens': '0', ...NO_RETRY },
    }),
  /** an upstream answered an error we pass on (its 4xx, or the last 429/5xx when no fallback was left) */
  upstream: (status: number, message: string, retryAfter?: string) => {
    const wait = status === 429 ? retryAfterSeconds(retryAfter) : undefined;
    return new BasaltError(status >= 500 ? 502 : status, status >= 500 ? 'upstream_error' : 'upstream_rejected',
      message, { headers: wait ? { 'retry-after': wait } : undefined, details: { upstream_status: status } });
  },
  upstreamUnreachable: (why: string) => new BasaltError(502, 'upstream_unreachable', `The model provider could not be reached: ${why}`),
  upstreamTimeout: () => new BasaltError(504, 'upstream_timeout', 'The model provider did not answer in time', { headers: NO_RETRY }),
  upstreamGarbage: (why: string) => new BasaltError(502, 'upstream_invalid', `The model provider answered something that is not its API: ${why}`, { headers: NO_RETRY }),
};
