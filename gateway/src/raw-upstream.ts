// The proxy hot path: one exchange forwarded over a pooled socket of @basalt/upstream, the response written to the
// client as it arrives (content-length, chunked, or until close) with backpressure both ways.
// Performance trap: an exchange is a class and a pooled socket's listeners are attached once, never a set of
// closures per request: tsx names every closure it creates (a defineProperty apiece), and listeners added and
// removed per exchange cost as much again.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SHARED_CACHE_HEADER } from '@basalt/http';
import { ChunkedDecoder, HeadReader, pipeBody, type UpstreamPool } from '@basalt/upstream';
import type { UpstreamFailure } from './errors.js';
import { isHopByHop } from './proxy.js';

export interface RawForward {
  pool: UpstreamPool;
  path: string;
  /** the request's header lines after the Host line, each ending in \r\n (see headerLines in proxy.ts) */
  headers: string;
  responseHeaders: string[];
  timeoutMs: number;
  /** bytes: the response body bytes sent; ref: the project an upstream named in x-basalt-ref (never sent on) */
  onDone(status: number, bytes: number, ref: string | null): void;
  /** the client went away before the response was complete */
  onAbort?(bytes: number, ref: string | null): void;
  onFail(status: UpstreamFailure): void;
  /** the largest answer the service marked shared (SHARED_CACHE_HEADER) to collect for keep(); 0 or absent: none */
  keepBytes?: number;
  /** a complete 200 to a GET that the service marked shared: its headers as forwarded (but date) and its body */
  keep?(head: string[], body: Buffer): void;
}

type BodyMode = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked'; decoder: ChunkedDecoder } | { kind: 'close' };

/** the exchange a pooled socket or a response currently belongs to */
const EXCHANGE = Symbol('exchange');
type Carrier = { [EXCHANGE]?: Exchange | null };

function onUpstreamData(this: Socket, chunk: Buffer): void {
  (this as Carrier)[EXCHANGE]?.data(chunk);
}
function onUpstreamClose(this: Socket): void {
  (this as Carrier)[EXCHANGE]?.upstreamClosed();
}
function onUpstreamTimeout(this: Socket): void {
  (this as Carrier)[EXCHANGE]?.fail(504);
}
function onClientClose(this: ServerResponse): void {
  (this as Carrier)[EXCHANGE]?.clientGone();
}
function onClientDrain(this: ServerResponse): void {
  (this as Carrier)[EXCHANGE]?.socket.resume();
}

/** [name, value, …] without the date header */
function withoutDate(headers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() !== 'date') out.push(headers[i], headers[i + 1]);
  return out;
}

/**
 * Proxies one exchange over a pooled socket; failures before the response starts go to onFail: 502 for an answer
 * that cannot be forwarded (a head past MAX_HEAD, a header node:http refuses to send), 503 and 504 as the pool's.
 */
export function rawForward(req: IncomingMessage, res: ServerResponse, o: RawForward, attempt = 0): void {
  new Exchange(req, res, o, attempt).start();
}

class Exchange {
  readonly socket: Socket;
  readonly reused: boolean;
  readonly method: string;
  readonly chunkedIn: boolean;
  readonly reader = new HeadReader();
  status = 0;
  body: BodyMode | null = null;
  reusable = true;
  finished = false;
  gotBytes = false;
  sent = 0;
  upstreamRef: string | null = null;
  /** a shared answer being collected for RawForward.keep: its headers, then its body's chunks */
  kept: { head: string[]; chunks: Buffer[] } | null = null;
  /** the request has a body: it is read once, so it cannot be sent again on a retry */
  readonly hasBody: boolean;
  requestSent: boolean;

  constructor(readonly req: IncomingMessage, readonly res: ServerResponse, readonly o: RawForward, readonly attempt: number) {
    // a retry goes out on a new connection: the idle socket next in line may have been closed with the first
    const { socket, reused } = o.pool.acquire(attempt > 0, o.timeoutMs);
    this.socket = socket;
    this.reused = reused;
    this.method = req.method ?? 'GET';
    const cl = req.headers['content-length'];
    this.chunkedIn = cl === undefined && req.headers['transfer-encoding'] !== undefined;
    this.hasBody = (cl !== undefined && cl !== '0') || this.chunkedIn;
    this.requestSent = !this.hasBody;
  }

  start(): void {
    const { socket, res, o } = this;
    const carrier = socket as Carrier;
    if (carrier[EXCHANGE] === undefined) {
      socket.on('data', onUpstreamData);
      socket.on('close', onUpstreamClose);
      socket.on('timeout', onUpstreamTimeout);
    }
    carrier[EXCHANGE] = this;
    (res as Carrier)[EXCHANGE] = this;
    if (this.attempt === 0) res.on('close', onClientClose);
    const head = `${this.method} ${o.path} HTTP/1.1\r\nhost: ${o.pool.authority}\r\n${o.headers}${this.chunkedIn ? 'transfer-encoding: chunked\r\n' : ''}connection: keep-alive\r\n\r\n`;
    // latin1, as node:http read the client's head: one byte per character (see pipeBody)
    if (this.requestSent) return void socket.write(head, 'latin1');
    // the head goes out with the body's first bytes, in one write (see pipeBody)
    pipeBody(this.req, socket, this.chunkedIn, () => (this.requestSent = true), () => this.finished, head);
  }

  #cleanup(): void {
    const { socket, res } = this;
    // A socket paused for client backpressure must not go back to the pool paused: the next exchange would never read.
    res.off('drain', onClientDrain);
    socket.resume();
    // no setTimeout(0) here: the socket is released (the pool sets its idle timeout) or destroyed next
    (socket as Carrier)[EXCHANGE] = null;
  }

  // The upstream answered before the client finished sending (a 413, an auth refusal): the rest of the client's
  // body goes nowhere, but it is read off and dropped, so the client sees its answer and its keep-alive
  // connection stays usable instead of hanging on a request stream paused for an upstream that is gone.
  #discardRestOfBody(): void {
    if (this.requestSent || this.req.readableEnded) return;
    this.req.removeAllListeners('data');
    this.req.resume();
  }

  /** last: the body's final bytes, sent with the end of the response */
  #finish(last?: Buffer): void {
    if (this.finished) return;
    this.finished = true;
    this.#cleanup();
    if (last && last.length) {
      this.sent += last.length;
      this.kept?.chunks.push(last);
      this.res.end(last);
    } else this.res.end();
    if (this.kept) this.o.keep!(this.kept.head, Buffer.concat(this.kept.chunks));
    if (this.reusable && this.requestSent) this.o.pool.release(this.socket);
    else this.socket.destroy();
    this.#discardRestOfBody();
    this.o.onDone(this.status, this.sent, this.upstreamRef);
  }

  fail(code: UpstreamFailure): void {
    if (this.finished) return;
    this.finished = true;
    this.#cleanup();
    this.socket.destroy();
    if (!this.res.headersSent) this.o.onFail(code);
    else this.res.destroy();
  }

  upstreamClosed(): void {
    if (this.finished) return;
    // A pooled socket the upstream had just closed: retry once when the request had no body and nothing came back.
    if (this.reused && !this.gotBytes && this.attempt === 0 && !this.hasBody && !this.res.headersSent) {
      this.finished = true;
      this.#cleanup();
      return rawForward(this.req, this.res, this.o, 1);
    }
    if (this.body?.kind === 'close') {
      this.reusable = false;
      return this.#finish();
    }
    this.fail(503);
  }

  clientGone(): void {
    if (this.finished) return;
    this.finished = true;
    this.#cleanup();
    this.socket.destroy(); // the client went away: stop the upstream work too
    this.o.onAbort?.(this.sent, this.upstreamRef);
  }

  #write(data: Buffer): void {
    this.sent += data.length;
    this.kept?.chunks.push(data);
    if (data.length && !this.res.write(data) && !this.socket.isPaused()) {
      this.socket.pause();
      this.res.once('drain', onClientDrain);
    }
  }

  #onBody(data: Buffer): void {
    const body = this.body;
    if (!body || body.kind === 'none') return;
    if (body.kind === 'close') return this.#write(data);
    if (body.kind === 'length') {
      // the rest of the body in this read: it goes out with the end of the response, in one write
      if (data.length >= body.left) return this.#finish(data.subarray(0, body.left));
      this.#write(data);
      body.left -= data.length;
      return;
    }
    let done: boolean;
    try {
      done = body.decoder.push(data, (d: Buffer) => this.#write(d));
    } catch {
      return this.fail(502);
    }
    if (done) this.#finish();
  }

  data(chunk: Buffer): void {
    this.gotBytes = true;
    if (this.body) return this.#onBody(chunk);
    const got = this.reader.push(chunk);
    if (got === null) return;
    if (got instanceof Error) return this.fail(502);
    const { head: parsed, rest } = got;
    const status = (this.status = parsed.status);
    const { length, chunked } = parsed;
    this.reusable = parsed.keepAlive;
    const out: string[] = [];
    const f = parsed.fields;
    let shared = false;
    for (let k = 0; k < f.length; k += 2) {
      const lower = parsed.names[k >> 1];
      switch (lower) {
        // a service that resolved the project itself (AI keys, mem0 tokens) names it for metering; clients never see it
        case 'x-basalt-ref':
          this.upstreamRef = f[k + 1];
          continue;
        case SHARED_CACHE_HEADER:
          shared = true;
          continue;
        // the request id is the gateway's own (added below), never a second copy from the service
        case 'x-request-id':
          continue;
        case 'content-length':
          if (chunked) continue;
      }
      // and so is CORS
      if (isHopByHop(lower) || lower.startsWith('access-control-')) continue;
      out.push(f[k], f[k + 1]);
    }
    if (shared && status === 200 && this.method === 'GET' && !chunked && length > 0 && length <= (this.o.keepBytes ?? 0)) {
      // kept without date: whoever is answered from it later gets the date of their own answer
      this.kept = { head: withoutDate(out), chunks: [] };
    }
    for (const h of this.o.responseHeaders) out.push(h);
    try {
      this.res.writeHead(status, out);
    } catch {
      // a name or value node:http will not send (a space in a name, a control character): nothing has been written
      this.kept = null;
      return this.fail(502);
    }
    if (this.method === 'HEAD' || status === 204 || status === 304 || (!chunked && length === 0)) {
      this.body = { kind: 'none' };
      return this.#finish();
    }
    this.body = chunked ? { kind: 'chunked', decoder: new ChunkedDecoder() } : length > 0 ? { kind: 'length', left: length } : { kind: 'close' };
    if (rest.length) this.#onBody(rest);
    // streams (SSE, downloads) may idle once they started; a body that came whole with its head never waits
    if (!this.finished) this.socket.setTimeout(0);
  }
}
