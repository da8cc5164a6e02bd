// GoTrue's wire: the x-supabase-api-version handshake and the error body auth-js reads. auth-js reads `code` as
// the error code only when the response carries X-Supabase-Api-Version; otherwise it reads the legacy
// {code: <status>, error_code, msg} body.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BasaltError } from '@basalt/errors';
import type { WithWeakPassword } from '../errors.js';

const API_VERSION = /^\d{4}-\d{2}-\d{2}$/;

export function apiVersion(req: FastifyRequest): string | null {
  const v = req.headers['x-supabase-api-version'];
  return typeof v === 'string' && API_VERSION.test(v) && v >= '2024-01-01' ? v : null;
}

/**
 * onRequest: a client that speaks the 2024-01-01 API gets the header back on every answer, errors included.
 * Every request passes it (health checks too), so it takes Fastify's callback form, as the skeleton's own hooks
 * do: an async hook costs each request a promise and a microtask hop.
 */
export function echoApiVersion(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (apiVersion(req)) reply.header('x-supabase-api-version', '2024-01-01');
  done();
}

// Codes the skeleton gives body and framework failures, in GoTrue's vocabulary (as under Express, an oversized
// body and any other framework 4xx read validation_failed).
const FRAMEWORK_CODES: Record<string, string> = {
  invalid_json: 'bad_json', not_found: 'not_found', bad_request: 'validation_failed', payload_too_large: 'validation_failed',
  unsupported_media_type: 'validation_failed',
};

export function gotrueShape(e: BasaltError, req: FastifyRequest) {
  const code = FRAMEWORK_CODES[e.code] ?? (e.status >= 500 ? 'unexpected_failure' : e.code);
  const weak = (e as WithWeakPassword).weakPassword;
  const extra = weak ? { weak_password: weak } : {};
  if (apiVersion(req)) return { code, message: e.message, ...extra };
  return { code: e.status, error_code: code, msg: e.message, ...(e.status >= 500 ? { error_id: req.id } : {}), ...extra };
}
