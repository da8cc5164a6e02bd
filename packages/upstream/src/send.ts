import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { ChunkedDecoder } from './chunked.js';
import { pipeBody } from './body.js';
import { HeadReader, type ResponseHead } from './head.js';
import type { UpstreamPool } from './pool.js';

/** a length-framed body up to this size is read whole before the response resolves, so the caller gets a Buffer */
const WHOLE_BYTES = 64 * 1024;

export interface UpstreamRequest {
  method: string;
  path: string;
  /** sent as given; without content-length, a body goes chunked */
  headers: Record<string, string>;
  body: Readable | null;
  /** aborts the exchange: the promise rejects with its reason, or the body stream is destroyed with it */
  signal?: AbortSignal;
  /**
   * on a new connection: for a replay after a pooled one closed under the request (the upstream's idle timeout
   * can close every idle socket at once, so the next pooled one may be just as dead)
   */
  fresh?: boolean;
}

export interface UpstreamResponse {
  status: number;
  /** lower-cased names; a repeated field's values joined with ", " */
  headers: Record<string, string>;
  /** the fields as sent: name, value, name, value, … */
  rawHeaders: string[];
  /** the whole body, when it was small and length-framed, or arrived with the head (HEAD, 204, 304: empty) */
  whole: Buffer | null;
  /** otherwise the body as it arrives; destroying it drops the connection */
  stream: Readable | null;
}

type Framing = { kind: 'length'; left: number } | { kind: 'chunked'; decoder: ChunkedDecoder } | { kind: 'close' };

/**
 * One exchange over a pooled socket. Rejects when the upstream could not be reached or closed before the response
 * head; a pooled socket the upstream had just closed is retried once on a new connection when the request has no
 * body (one with a body is the caller's to replay, with `fresh`).
 */
export function send(pool: UpstreamPool, r: UpstreamRequest): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => exchange(pool, r, resolve, reject, false));
}

function exchange(pool: UpstreamPool, r: UpstreamRequest, resolve: (res: UpstreamResponse) => void, reject: (e: unknown) => void, retried: boolean): void {
  const { socket, reused } = pool.acquire(retried || r.fresh);
  const chunkedIn = r.body !== null && r.headers['content-length'] === undefined;
  let out = `${r.method} ${r.path} HTTP/1.1\r\nhost: ${pool.authority}\r\n`;
  for (const name in r.headers) out += `${name}: ${r.headers[name]}\r\n`;
  out += chunkedIn ? 'transfer-encoding: chunked\r\n\r\n' : '\r\n';

  const reader = new HeadReader();
  let parsed: ResponseHead | null = null;
  let framing: Framing | null = null;
  let kept: Buffer[] = [];
  let stream: Readable | null = null;
  let requestSent = r.body === null;
  let gotBytes = false;
  let settled = false;
  let over = false;

  const cleanup = () => {
    over = true;
    socket.off('data', onData);
    socket.off('close', onClose);
    r.signal?.removeEventListener('abort', onAbort);
    socket.resume();
  };
  const fail = (e: unknown) => {
    if (over) return;
    cleanup();
    socket.destroy();
    if (!settled) {
      settled = true;
      reject(e);
    } else stream?.destroy(e as Error);
  };
  const onAbort = () => fail(r.signal!.reason);
  const onClose = () => {
    if (over) return;
    if (framing?.kind === 'close') return end(false);
    if (!gotBytes && reused && !retried && r.body === null && !settled) {
      cleanup();
      return exchange(pool, r, resolve, reject, true);
    }
    fail(new Error('the upstream closed the connection'));
  };
  const respond = (whole: Buffer | null) => {
    settled = true;
    const headers: Record<string, string> = {};
    const f = parsed!.fields;
    for (let i = 0; i < f.length; i += 2) {
      const k = f[i].toLowerCase();
      headers[k] = headers[k] === undefined ? f[i + 1] : `${headers[k]}, ${f[i + 1]}`;
    }
    if (whole === null) {
      stream = new Readable({
        read: () => void socket.resume(),
        destroy: (e, cb) => {
          if (!over) {
            cleanup();
            socket.destroy();
          }
          cb(e);
        },
      });
    }
    resolve({ status: parsed!.status, headers, rawHeaders: f, whole, stream });
  };
  /** the body is complete: the socket goes back to the pool when the exchange left it clean */
  const end = (reusable: boolean) => {
    cleanup();
    if (reusable && parsed!.keepAlive && requestSent) pool.release(socket);
    else socket.destroy();
    if (!requestSent && r.body && !r.body.readableEnded) r.body.resume(); // answered before it was all sent: dropped
    if (!settled) respond(kept.length === 1 ? kept[0] : Buffer.concat(kept));
    else stream!.push(null);
  };
  const deliver = (data: Buffer) => {
    if (!data.length) return;
    if (!settled) kept.push(data);
    else if (!stream!.push(data)) socket.pause();
  };
  const onBody = (data: Buffer): void => {
    const f = framing!;
    if (f.kind === 'close') return deliver(data);
    if (f.kind === 'length') {
      const take = Math.min(f.left, data.length);
      deliver(data.subarray(0, take));
      f.left -= take;
      if (f.left === 0) end(true);
      return;
    }
    let done: boolean;
    try {
      done = f.decoder.push(data, deliver);
    } catch (e) {
      return fail(e);
    }
    if (done) end(true);
    // a chunked body that did not come whole with the head streams from here
    else if (!settled) {
      const first = kept;
      kept = [];
      respond(null);
      for (const b of first) stream!.push(b);
    }
  };
  const onData = (chunk: Buffer): void => {
    gotBytes = true;
    if (framing) return onBody(chunk);
    const got = reader.push(chunk);
    if (got === null) return;
    if (got instanceof Error) return fail(got);
    if (got.head.status < 200) return got.rest.length ? onData(got.rest) : undefined; // 100 Continue and friends
    parsed = got.head;
    const { length, chunked } = parsed;
    if (r.method === 'HEAD' || parsed.status === 204 || parsed.status === 304 || (!chunked && length === 0)) return end(true);
    framing = chunked ? { kind: 'chunked', decoder: new ChunkedDecoder() } : length > 0 ? { kind: 'length', left: length } : { kind: 'close' };
    // A large or unframed body streams, and so does a chunked one unless it came whole with the head (an event
    // stream's head goes on at once); a small length-framed one is read whole first.
    if (framing.kind === 'close' || (framing.kind === 'length' && length > WHOLE_BYTES) || (chunked && !got.rest.length)) respond(null);
    if (got.rest.length) onBody(got.rest);
  };

  if (r.signal?.aborted) return fail(r.signal.reason);
  r.signal?.addEventListener('abort', onAbort, { once: true });
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.resume();
  if (!r.body) return void socket.write(out);
  const body = r.body;
  pipeBody(body, socket, chunkedIn, () => (requestSent = true), () => over, out);
  body.once('error', (e) => fail(e));
}

/** A node:http response in the same shape, streamed (for callers that also reach upstreams through node:http). */
export function fromIncoming(res: IncomingMessage): UpstreamResponse {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode ?? 502, headers, rawHeaders: res.rawHeaders, whole: null, stream: res };
}
