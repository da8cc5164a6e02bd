// One error renderer, three wire shapes: the management API speaks the platform's {code, message}; /v1/messages
// (and /v1/models when an Anthropic client asks) speaks Anthropic's; everything else under /v1 OpenAI's.
import type { FastifyRequest } from 'fastify';
import type { BasaltError } from '@basalt/errors';

export type ApiFormat = 'openai' | 'anthropic';

/** Anthropic SDKs (both generations) always send anthropic-version; it is how /v1/models tells them apart. */
export function apiFormatOf(url: string, headers: FastifyRequest['headers']): ApiFormat {
  const path = url.split('?')[0];
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (path.startsWith('/v1/models') && headers['anthropic-version'] !== undefined) return 'anthropic';
  return 'openai';
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'invalid_request_error', 403: 'permission_error', 404: 'invalid_request_error',
  413: 'invalid_request_error', 429: 'rate_limit_error',
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error', 403: 'permission_error',
  404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error', 504: 'timeout_error', 529: 'overloaded_error',
};

export const openaiError = (status: number, code: string, message: string) =>
  ({ error: { message, type: OPENAI_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), param: null, code } });

export const anthropicError = (status: number, message: string, requestId?: string) =>
  ({ type: 'error', error: { type: ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message }, ...(requestId ? { request_id: requestId } : {}) });

export function renderError(e: BasaltError, req: FastifyRequest): unknown {
  if (req.url.startsWith('/platform/')) {
    return { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) };
  }
  return apiFormatOf(req.url, req.headers) === 'anthropic' ? anthropicError(e.status, e.message, req.id) : openaiError(e.status, e.code, e.message);
}
