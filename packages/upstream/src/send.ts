import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ChunkedDecoder } from './chunked.js';
import { pipeBody } from './body.js';
import type { Cancellation } from './cancel.js';
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
  signal?: Cancellation;
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
  return new Promise((resolve, reject) => new Exchange(pool, r, resolve, reject, false).start());
}

// Performance trap: an exchange is a class and a pooled socket's listeners are attached once, never a set of
// closures per call (tsx names every closure it creates, a defineProperty apiece; listeners added and removed per
// exchange cost as much again). The socket carries the exchange it currently belongs to.
const EXCHANGE = Symbol('send exchange');
type Carrier = Socket & { [EXCHANGE]?: Exchange | null };

function onSocketData(this: Carrier, chunk: Buffer): void {
  this[EXCHANGE]?.data(chunk);
}
function onSocketClose(this: Carrier): void {
  this[EXCHANGE]?.closed();
}

class Exchange {
  readonly socket: Carrier;
  readonly reused: boolean;
  readonly reader = new HeadReader();
  parsed: ResponseHead | null = null;
  framing: Framing | null = null;
  kept: Buffer[] = [];
  stream: Readable | null = null;
  requestSent: boolean;
  gotBytes = false;
  settled = false;
  over = false;
  readonly #onAbort: (() => void) | null;

  constructor(readonly pool: UpstreamPool, readonly r: UpstreamRequest, readonly resolve: (res: UpstreamResponse) => void, readonly reject: (e: unknown) => void, readonly retried: boolean) {
    const { socket, reused } = pool.acquire(retried || r.fresh);
    this.socket = socket as Carrier;
    this.reused = reused;
    this.requestSent = r.body === null;
    this.#onAbort = r.signal ? () => this.fail(r.signal!.reason) : null;
  }

  start(): void {
    const { r, socket, pool } = this;
    if (socket[EXCHANGE] === undefined) {
      socket.on('data', onSocketData);
      socket.on('close', onSocketClose);
    }
    socket[EXCHANGE] = this;
    if (r.signal?.aborted) return this.fail(r.signal.reason);
    r.signal?.addEventListener('abort', this.#onAbort!, { once: true });
    socket.resume();
    const chunkedIn = r.body !== null && r.headers['content-length'] === undefined;
    let out = `${r.method} ${r.path} HTTP/1.1\r\nhost: ${pool.authority}\r\n`;
    for (const name in r.headers) out += `${name}: ${r.headers[name]}\r\n`;
    out += chunkedIn ? 'transfer-encoding: chunked\r\n\r\n' : '\r\n';
    if (!r.body) return void socket.write(out, 'latin1'); // a head is latin1 (see pipeBody)
    const body = r.body;
    pipeBody(body, socket, chunkedIn, () => (this.requestSent = true), () => this.over, out);
    body.once('error', (e) => this.fail(e));
  }

  #cleanup(): void {
    this.over = true;
    this.socket[EXCHANGE] = null;
    if (this.#onAbort) this.r.signal!.removeEventListener('abort', this.#onAbort);
    this.socket.resume();
  }

  fail(e: unknown): void {
    if (this.over) return;
    this.#cleanup();
    this.socket.destroy();
    if (!this.settled) {
      this.settled = true;
      this.reject(e);
    } else this.stream?.destroy(e as Error);
  }

  closed(): void {
    if (this.over) return;
    if (this.framing?.kind === 'close') return this.#end(false);
    if (!this.gotBytes && this.reused && !this.retried && this.r.body === null && !this.settled) {
      this.#cleanup();
      return new Exchange(this.pool, this.r, this.resolve, this.reject, true).start();
    }
    this.fail(new Error('the upstream closed the connection'));
  }

  #respond(whole: Buffer | null): void {
    this.settled = true;
    const headers: Record<string, string> = {};
    const { fields: f, names } = this.parsed!;
    for (let i = 0; i < f.length; i += 2) {
      const k = names[i >> 1];
      headers[k] = headers[k] === undefined ? f[i + 1] : `${headers[k]}, ${f[i + 1]}`;
    }
    if (whole === null) {
      const socket = this.socket;
      this.stream = new Readable({
        read: () => void socket.resume(),
        destroy: (e, cb) => {
          if (!this.over) {
            this.#cleanup();
            socket.destroy();
          }
          cb(e);
        },
      });
    }
    this.resolve({ status: this.parsed!.status, headers, rawHeaders: f, whole, stream: this.stream });
  }

  /** the body is complete: the socket goes back to the pool when the exchange left it clean */
  #end(reusable: boolean): void {
    const { r, socket } = this;
    this.#cleanup();
    if (reusable && this.parsed!.keepAlive && this.requestSent) this.pool.release(socket);
    else socket.destroy();
    if (!this.requestSent && r.body && !r.body.readableEnded) r.body.resume(); // answered before it was all sent: dropped
    if (!this.settled) this.#respond(this.kept.length === 1 ? this.kept[0] : Buffer.concat(this.kept));
    else this.stream!.push(null);
  }

  #deliver(data: Buffer): void {
    if (!data.length) return;
    if (!this.settled) this.kept.push(data);
    else if (!this.stream!.push(data)) this.socket.pause();
  }

  #onBody(data: Buffer): void {
    const f = this.framing!;
    if (f.kind === 'close') return this.#deliver(data);
    if (f.kind === 'length') {
      const take = Math.min(f.left, data.length);
      this.#deliver(data.subarray(0, take));
      f.left -= take;
      if (f.left === 0) this.#end(true);
      return;
    }
    let done: boolean;
    try {
      done = f.decoder.push(data, (d: Buffer) => this.#deliver(d));
    } catch (e) {
      return this.fail(e);
    }
    if (done) this.#end(true);
    // a chunked body that did not come whole with the head streams from here
    else if (!this.settled) {
      const first = this.kept;
      this.kept = [];
      this.#respond(null);
      for (const b of first) this.stream!.push(b);
    }
  }

  data(chunk: Buffer): void {
    this.gotBytes = true;
    if (this.framing) return this.#onBody(chunk);
    const got = this.reader.push(chunk);
    if (got === null) return;
    if (got instanceof Error) return this.fail(got);
    const parsed = (this.parsed = got.head);
    const { length, chunked } = parsed;
    if (this.r.method === 'HEAD' || parsed.status === 204 || parsed.status === 304 || (!chunked && length === 0)) return this.#end(true);
    const framing: Framing = (this.framing = chunked ? { kind: 'chunked', decoder: new ChunkedDecoder() } : length > 0 ? { kind: 'length', left: length } : { kind: 'close' });
    // A large or unframed body streams, and so does a chunked one unless it came whole with the head (an event
    // stream's head goes on at once); a small length-framed one is read whole first.
    if (framing.kind === 'close' || (framing.kind === 'length' && length > WHOLE_BYTES) || (chunked && !got.rest.length)) this.#respond(null);
    if (got.rest.length) this.#onBody(got.rest);
  }
}

/** A node:http response in the same shape, streamed (for callers that also reach upstreams through node:http). */
export function fromIncoming(res: IncomingMessage): UpstreamResponse {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode ?? 502, headers, rawHeaders: res.rawHeaders, whole: null, stream: res };
}
