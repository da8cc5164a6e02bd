// Errors the gateway answers itself when a service cannot (down, timed out), in the wire shape of the API the
// path belongs to, so each client library reads them as it reads that API's own errors. Key and rate-limit
// rejections keep Kong's `{message}`, which is what Supabase's clients get from Supabase's gateway.
import type { ServerResponse } from 'node:http';
import { sendJson } from './proxy.js';
import type { Service } from './routes.js';

export type ErrorStyle = 'postgrest' | 'gotrue' | 'storage' | 'openai' | 'anthropic' | 'mem0' | 'basalt';

const STYLE: Record<Service, ErrorStyle> = {
  platform: 'basalt', rest: 'postgrest', auth: 'gotrue', storage: 'storage', functions: 'basalt', 'ai-gateway': 'openai',
  memory: 'mem0', realtime: 'basalt', scheduler: 'basalt', documents: 'basalt',
};

export function styleFor(service: Service, path: string): ErrorStyle {
  if (service === 'ai-gateway' && /^\/v1\/messages(\/|$|\?)/.test(path)) return 'anthropic';
  return STYLE[service];
}

function body(style: ErrorStyle, status: number, code: string, message: string): unknown {
  switch (style) {
    case 'postgrest': return { code, message, details: null, hint: null };
    case 'gotrue': return { code: status, error_code: code, msg: message };
    case 'storage': return { statusCode: String(status), error: code, message };
    case 'openai': return { error: { type: code, message, code } };
    case 'anthropic': return { type: 'error', error: { type: status === 504 ? 'timeout_error' : status === 502 ? 'api_error' : 'overloaded_error', message } };
    case 'mem0': return { detail: message, code };
    case 'basalt': return { code, message };
  }
}

/** A plan quota the gateway enforces (requests_per_second), in the shape of the API the path belongs to, naming it. */
export function quotaErrorBody(service: Service, path: string, status: number, quota: string, message: string): unknown {
  const style = styleFor(service, path);
  if (style === 'anthropic') return { type: 'error', error: { type: 'rate_limit_error', message } };
  return body(style, status, quota, message);
}

/** Seconds a client should wait before retrying a service that is down: about one supervisor restart. */
export const RETRY_AFTER_SECONDS = 5;

/** What the gateway answers for a service: 502 its answer could not be forwarded, 503 down, 504 timed out. */
export type UpstreamFailure = 502 | 503 | 504;

const FAILURES: Record<UpstreamFailure, { code: string; message: (service: Service) => string }> = {
  502: { code: 'bad_gateway', message: (s) => `The ${s} service sent an answer that could not be forwarded` },
  503: { code: 'service_unavailable', message: (s) => `The ${s} service is unavailable; retry shortly` },
  504: { code: 'upstream_timeout', message: (s) => `The ${s} service did not answer in time` },
};

export function sendUpstreamFailure(res: ServerResponse, status: UpstreamFailure, service: Service, path: string, headers: string[]): void {
  const { code, message } = FAILURES[status];
  const extra = status === 503 ? [...headers, 'retry-after', String(RETRY_AFTER_SECONDS)] : headers;
  sendJson(res, status, body(styleFor(service, path), status, code, message(service)), extra);
}
