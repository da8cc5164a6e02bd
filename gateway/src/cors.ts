// CORS as browser Supabase clients need it: preflights answered here, every response made readable.
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOW_HEADERS = [
  'authorization', 'x-client-info', 'apikey', 'content-type', 'x-retry-count', 'prefer', 'range', 'range-unit',
  'accept-profile', 'content-profile', 'x-upsert', 'x-metadata', 'cache-control', 'x-supabase-api-version',
  'x-region', 'tus-resumable', 'upload-length', 'upload-metadata', 'upload-offset', 'if-none-match', 'if-modified-since',
].join(', ');

/** the headers a credentialed answer exposes: there, `*` would name a header called `*` */
const EXPOSE_HEADERS = [
  'Content-Range', 'Content-Location', 'Location', 'X-Total-Count', 'Link', 'x-sb-error-code', 'X-Supabase-Api-Version',
  'Preference-Applied', 'Proxy-Status', 'x-request-id', 'Retry-After', 'ETag', 'Last-Modified', 'x-relay-error',
  'Content-Disposition', 'X-Transformations', 'Upload-Offset', 'Upload-Length', 'Tus-Resumable', 'Tus-Version',
  'Tus-Extension', 'Tus-Max-Size', 'request-id',
].join(', ');

// Without credentials a browser reads `*` as "every header" (Fetch, CORS protocol): the list matters only to the
// credentialed answers of corsFor. It is also what node:http validates on every response, 339 characters a time.
const ANY_ORIGIN = ['access-control-allow-origin', '*', 'access-control-expose-headers', '*'];

/**
 * Headers added to every response, as a flat [name, value, …] list. By default any origin may read responses
 * but never with credentials (cookies, TLS client certs), as Supabase does: an origin is only echoed with
 * credentials when the project lists it (corsFor). Reflecting any Origin with credentials, or `null` (sandboxed
 * iframes, file: pages), would let every site read a logged-in user's responses.
 */
export function corsHeaders(_req: IncomingMessage): string[] {
  return ANY_ORIGIN;
}

/** A project's CORS: origins in settings.cors.allowed_origins get credentials, everyone else the default. */
export function corsFor(req: IncomingMessage, project: { settings: Record<string, unknown> }): string[] {
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return ANY_ORIGIN;
  const allowed = (project.settings.cors as { allowed_origins?: unknown } | undefined)?.allowed_origins;
  if (!Array.isArray(allowed) || !allowed.includes(origin)) return ANY_ORIGIN;
  return ['access-control-allow-origin', origin, 'vary', 'Origin', 'access-control-allow-credentials', 'true', 'access-control-expose-headers', EXPOSE_HEADERS];
}

export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && typeof req.headers['access-control-request-method'] === 'string';
}

export function answerPreflight(req: IncomingMessage, res: ServerResponse, cors: string[]): void {
  const requested = req.headers['access-control-request-headers'];
  res.writeHead(204, [
    ...cors,
    'access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD',
    'access-control-allow-headers', typeof requested === 'string' && requested.length < 4096 ? requested : ALLOW_HEADERS,
    'access-control-max-age', '86400',
    'content-length', '0',
  ]);
  res.end();
}
