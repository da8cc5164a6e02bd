// fetch() for requests made on a tenant's behalf: every hop's host is resolved and checked by the policy, the
// connection is pinned to the checked address (Host and TLS SNI stay the name), and redirects are followed
// here, a bounded number of times, each one checked again. The body is read only once the first hop is allowed,
// and streamed past REPLAY_BYTES (body.ts).
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { blobBody, dropUnread, isStreamed, isUnread, loadedChunks, pump, REPLAY_BYTES, settle, streamChunks, unread, type Body, type Chunks, type Unread } from './body.js';
import { EgressError, resolveAllowed, type EgressPolicy, type Resolved } from './policy.js';

export interface EgressInit extends RequestInit {
  policy: EgressPolicy;
  /** origins always reachable whatever they resolve to (the platform's own gateway) */
  allowOrigins?: string[];
  maxRedirects?: number;
  /** until the final response's headers, and then the longest silence while its body streams */
  timeoutMs?: number;
}

interface Hop {
  url: URL;
  method: string;
  /** lower-case names */
  headers: Record<string, string>;
  body: Body;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Not forwarded as given: node computes them for the connection it opens.
const HOP_HEADERS = ['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade'];

/** Node asks with { all: true } (happy eyeballs) or for one address; either way only the checked one is given. */
const pinnedLookup = (to: Resolved): LookupFunction =>
  ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address: to.address, family: to.family }]);
    else cb(null, to.address, to.family);
  }) as unknown as LookupFunction;

function toResponse({ res, url, method }: EgressResponse): Response {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  const status = res.statusCode ?? 502;
  const empty = status === 204 || status === 205 || status === 304 || method === 'HEAD' || (status >= 100 && status < 200);
  if (empty) res.resume();
  const response = new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status, statusText: res.statusMessage, headers });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

/**
 * What cancels the request in flight: the caller's signal (the body too) and the deadline (until the final
 * response's headers). One plain object instead of an AbortController per call: this is every model call's path.
 */
interface Cancel {
  req: http.ClientRequest | null;
  /** the body's source while it is read or streamed */
  source: Chunks | null;
  reason: Error | null;
}

function cancelWith(c: Cancel, reason: Error): void {
  c.reason ??= reason;
  c.source?.drop(c.reason);
  c.req?.destroy(c.reason);
}

/** A streamed upload no hop will finish: its source dropped, its connection (mid-body, so not reusable) closed. */
function dropUpload(c: Cancel, reason: Error): void {
  if (!c.source) return;
  c.source.drop(reason);
  c.source = null;
  c.req?.destroy();
}

function send(hop: Hop, to: Resolved, cancel: Cancel, idleMs: number): Promise<http.IncomingMessage> {
  const client = hop.url.protocol === 'https:' ? https : http;
  const headers = { ...hop.headers };
  for (const h of HOP_HEADERS) delete headers[h];
  const body = hop.body; // settled: bytes, a stream or none
  if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
  // A stream is framed by the length it declared (pump holds it to it) or chunked, whatever the method: node sends
  // a DELETE's or an OPTIONS' body unframed otherwise, and the upstream would read it as the next request.
  else if (isStreamed(body)) {
    if (body.length === null) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = client.request(hop.url, { method: hop.method, headers, lookup: pinnedLookup(to), timeout: idleMs }, resolve);
    cancel.req = req;
    req.on('timeout', () => req.destroy(new Error(`outbound request to ${hop.url.host} timed out`)));
    req.on('error', reject);
    if (isStreamed(body)) void pump(req, body);
    else req.end(Buffer.isBuffer(body) ? body : undefined);
  });
}

/** The request the next hop makes, as fetch's "follow" mode would (RFC 9110 §15.4, Fetch §4.4). */
function nextHop(hop: Hop, status: number, location: string): Hop {
  const url = new URL(location, hop.url);
  const headers = { ...hop.headers };
  let { method, body } = hop;
  if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
    method = 'GET';
    body = null;
    for (const h of ['content-type', 'content-encoding', 'content-language', 'content-location']) delete headers[h];
  }
  // Credentials meant for one origin are not handed to another.
  if (url.origin !== hop.url.origin) for (const h of ['authorization', 'cookie', 'proxy-authorization']) delete headers[h];
  return { url, method, headers, body };
}

// A Request from another fetch implementation (Miniflare bundles its own undici) is no instance of this realm's
// Request; it is read through the same fields.
const isRequestLike = (x: unknown): x is Request => typeof x === 'object' && x !== null && !(x instanceof URL) && 'url' in x && 'method' in x;

/** A foreign Request's body stays in it, unread, until the hop is allowed (unless init gives another). */
function foreignHop(r: Request, init: RequestInit): Hop {
  const own = init.body != null;
  const request = new Request(r.url, { method: r.method, headers: [...r.headers], redirect: r.redirect, ...init, ...(own ? { duplex: 'half' } : { body: null }) } as RequestInit);
  const headers = Object.fromEntries(request.headers);
  const source = own ? request.body : r.body;
  const readable = typeof (source as { getReader?: unknown } | null)?.getReader === 'function';
  const open = (): Chunks => (readable ? streamChunks(source!) : loadedChunks(() => r.arrayBuffer()));
  return { url: new URL(request.url), method: request.method, headers, body: source ? unread(open, headers) : null };
}

/** A plain object of headers is read as is (names lower-cased); anything else goes through Headers. */
function headerRecord(init: RequestInit['headers']): Record<string, string> {
  if (init === undefined) return {};
  if (Array.isArray(init) || typeof (init as { entries?: unknown }).entries === 'function') return Object.fromEntries(new Headers(init));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(init as Record<string, string | readonly string[] | undefined>)) {
    if (v !== undefined) out[k.toLowerCase()] = typeof v === 'string' ? v : v.join(', ');
  }
  return out;
}

/**
 * fetch's "extract a body" for the bodies it knows the length of: the bytes as we send them (copied, as fetch copies
 * them, or a Blob read when sent) and the Content-Type fetch gives them. A stream or FormData is undefined here: a
 * Request reads it.
 */
function extract(b: unknown): { body: Buffer | Unread | null; type: string | null } | undefined {
  if (b == null) return { body: null, type: null };
  if (typeof b === 'string') return { body: Buffer.from(b), type: 'text/plain;charset=UTF-8' };
  if (b instanceof URLSearchParams) return { body: Buffer.from(String(b)), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  if (ArrayBuffer.isView(b)) return { body: Buffer.from(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)), type: null };
  if (b instanceof ArrayBuffer) return { body: Buffer.from(new Uint8Array(b)), type: null };
  if (b instanceof Blob) return { body: blobBody(b), type: b.type || null };
  return undefined;
}

function firstHop(input: string | URL | Request, init: RequestInit): Hop {
  // The common call (a URL, a body of known length, plain headers) needs no Request object: building one (and
  // reading its body back) costs more than the request itself on a loopback upstream, and would make a Blob a
  // stream of unknown length.
  const known = typeof input === 'string' || input instanceof URL ? extract(init.body) : undefined;
  if (known !== undefined) {
    const { body, type } = known;
    const method = (init.method ?? 'GET').toUpperCase();
    if (body !== null && (method === 'GET' || method === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have body.');
    const headers = headerRecord(init.headers);
    if (type !== null && headers['content-type'] === undefined) headers['content-type'] = type;
    return { url: new URL(input as string | URL), method, headers, body };
  }
  if (isRequestLike(input) && !(input instanceof Request)) return foreignHop(input, init);
  // Building the Request reads nothing of its body.
  const request = new Request(input, { ...init, duplex: 'half' } as RequestInit);
  const headers = Object.fromEntries(request.headers);
  const stream = request.body;
  return { url: new URL(request.url), method: request.method, headers, body: stream ? unread(() => streamChunks(stream), headers) : null };
}

const defaultPort = (url: URL) => Number(url.port || (url.protocol === 'https:' ? 443 : 80));

/** What egressRequest answers: the final hop's node response, for callers that stream it without web streams. */
export interface EgressResponse {
  res: http.IncomingMessage;
  status: number;
  /** the final URL, after redirects */
  url: string;
  method: string;
  /** a response header (names case-insensitive; repeated ones joined with ", ") or null */
  header(name: string): string | null;
  /** the body as text (the caller's signal and the idle timeout still apply while it streams) */
  text(): Promise<string>;
}

function egressResponse(res: http.IncomingMessage, hop: Hop): EgressResponse {
  return {
    res,
    status: res.statusCode ?? 502,
    url: hop.url.toString(),
    method: hop.method,
    header(name) {
      const v = res.headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
    async text() {
      const parts: Buffer[] = [];
      for await (const chunk of res) parts.push(chunk as Buffer);
      return Buffer.concat(parts).toString('utf8');
    },
  };
}

/**
 * The request under the egress policy, answered with node's response (no web streams: a fraction of fetch()'s
 * cost per call, for hot paths such as the AI gateway's). Throws EgressError when a hop is refused.
 */
export async function egressRequest(input: string | URL | Request, init: EgressInit): Promise<EgressResponse> {
  const { policy, allowOrigins = [], maxRedirects = 5, timeoutMs = 30_000, signal: callerSignal, ...rest } = init;
  const trusted = allowOrigins.length === 0 ? null : new Set(allowOrigins.map((o) => new URL(o).origin));
  const mode = rest.redirect ?? (isRequestLike(input) ? input.redirect : 'follow');
  // The caller's signal cancels the body too; the deadline only runs until the final response's headers.
  const cancel: Cancel = { req: null, source: null, reason: null };
  const stop = () => cancelWith(cancel, callerSignal!.reason instanceof Error ? callerSignal!.reason : new Error('outbound request aborted'));
  callerSignal?.addEventListener('abort', stop, { once: true });
  if (callerSignal?.aborted) stop();
  const deadline = setTimeout(() => cancelWith(cancel, new Error(`outbound request timed out after ${timeoutMs} ms`)), timeoutMs);
  let hop: Hop | null = null;
  try {
    hop = firstHop(input, rest);
    for (let redirects = 0; ; redirects++) {
      if (hop.url.protocol !== 'http:' && hop.url.protocol !== 'https:') throw new EgressError(`Outbound requests over ${hop.url.protocol} are not allowed`);
      const to = await resolveAllowed(hop.url.hostname, defaultPort(hop.url), policy, trusted?.has(hop.url.origin) ?? false);
      if (cancel.reason) throw cancel.reason;
      if (isUnread(hop.body)) {
        const source = (cancel.source = hop.body.open());
        hop.body = await settle(hop.body, source);
        if (cancel.reason) throw cancel.reason;
        if (Buffer.isBuffer(hop.body)) cancel.source = null;
      }
      const res = await send(hop, to, cancel, timeoutMs);
      const status = res.statusCode ?? 502;
      const location = res.headers.location;
      if (mode === 'manual' || !REDIRECTS.has(status) || location === undefined) {
        if (callerSignal) res.once('close', () => callerSignal.removeEventListener('abort', stop));
        return egressResponse(res, hop);
      }
      res.resume(); // drained, so the connection is reused
      if (mode === 'error') throw new TypeError(`fetch failed: redirect from ${hop.url} with redirect: "error"`);
      if (redirects >= maxRedirects) throw new EgressError(`Outbound request refused: more than ${maxRedirects} redirects`);
      const next = nextHop(hop, status, location);
      if (isStreamed(hop.body)) {
        // a Blob is read again; any other body sent as it streamed is gone
        if (next.body !== null && !hop.body.again) throw new TypeError(`fetch failed: a ${status} redirect sends the body again, and a body over ${REPLAY_BYTES} bytes is streamed, not kept`);
        if (next.body !== null) next.body = hop.body.again;
        dropUpload(cancel, new Error(`outbound request redirected with ${status}`));
      }
      hop = next;
    }
  } catch (e) {
    callerSignal?.removeEventListener('abort', stop);
    const reason = e instanceof Error ? e : new Error(String(e));
    // A refused request's body, never opened, is dropped too (body.ts: DRAIN_BYTES), so its sender stops waiting on it.
    if (hop && isUnread(hop.body) && !cancel.source) dropUnread(hop.body, reason);
    dropUpload(cancel, reason);
    throw cancel.reason ?? e;
  } finally {
    clearTimeout(deadline);
  }
}

/** fetch() under the egress policy; throws EgressError when a hop is refused (before connecting to it). */
export async function egressFetch(input: string | URL | Request, init: EgressInit): Promise<Response> {
  return toResponse(await egressRequest(input, init));
}
