// A lean HTTP/1.1 client for the proxy hot path: pooled keep-alive sockets, the request head written as one
// string, and a response parser that only frames the body (content-length, chunked, or until close).
// node:http's ClientRequest/IncomingMessage layers cost more than the proxying itself on small responses.
import net from 'node:net';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HOP_BY_HOP } from './proxy.js';

const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const READ_BUFFER = Buffer.allocUnsafe(1024 * 1024);

export class UpstreamPool {
  readonly #idle: net.Socket[] = [];

  constructor(readonly host: string, readonly port: number, private readonly maxIdle = 256) {}

  acquire(): { socket: net.Socket; reused: boolean } {
    while (this.#idle.length) {
      const socket = this.#idle.pop()!;
      if (!socket.destroyed && socket.readable && socket.writable) return { socket, reused: true };
    }
    // Reads land in one shared 1 MB buffer (libuv reads and this callback run one at a time on this thread) and
    // are copied out at their exact size: a large body streams down in reads of up to 1 MB instead of 64 KB.
    const socket: net.Socket = net.connect({
      host: this.host, port: this.port, noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n: number, b: Uint8Array) => (socket.emit('data', Buffer.from(b.subarray(0, n))), true) },
    });
    socket.on('error', () => undefined); // reported through the exchange that owns it (its 'close')
    socket.on('close', () => this.#forget(socket));
    // An idle pooled socket is closed by us before the upstream's 65 s keep-alive timeout closes it under a request.
    socket.on('timeout', () => {
      if (this.#idle.includes(socket)) socket.destroy();
    });
    return { socket, reused: false };
  }

  #forget(socket: net.Socket): void {
    const i = this.#idle.indexOf(socket);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  release(socket: net.Socket): void {
    if (socket.destroyed || this.#idle.length >= this.maxIdle) return void socket.destroy();
    socket.setTimeout(30_000);
    this.#idle.push(socket);
  }

  destroy(): void {
    for (const s of this.#idle.splice(0)) s.destroy();
  }
}

export interface RawForward {
  pool: UpstreamPool;
  path: string;
  headers: OutgoingHttpHeaders;
  responseHeaders: string[];
  timeoutMs: number;
  /** bytes: the response body bytes sent; ref: the project an upstream named in x-basalt-ref (never sent on) */
  onDone: (status: number, bytes: number, ref: string | null) => void;
  /** the client went away before the response was complete */
  onAbort?: (bytes: number, ref: string | null) => void;
  onFail: (status: 503 | 504) => void;
}

type BodyMode = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked'; decoder: ChunkedDecoder } | { kind: 'close' };

/** Decodes a chunked body into its payload; push() returns true once the last chunk and trailers are read. */
export class ChunkedDecoder {
  #state: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  #left = 0;
  #line = '';

  push(data: Buffer, emit: (payload: Buffer) => void): boolean {
    let i = 0;
    while (i < data.length) {
      if (this.#state === 'data') {
        const take = Math.min(this.#left, data.length - i);
        emit(data.subarray(i, i + take));
        this.#left -= take;
        i += take;
        if (this.#left === 0) this.#state = 'data-end';
        continue;
      }
      const nl = data.indexOf(10, i);
      if (nl < 0) {
        this.#line += data.toString('latin1', i);
        if (this.#line.length > 8192) throw new Error('chunk line too long');
        return false;
      }
      const line = (this.#line + data.toString('latin1', i, nl)).replace(/\r$/, '');
      this.#line = '';
      i = nl + 1;
      if (this.#state === 'size') {
        const size = parseInt(line, 16);
        if (Number.isNaN(size) || size < 0) throw new Error('bad chunk size');
        if (size === 0) this.#state = 'trailer';
        else {
          this.#left = size;
          this.#state = 'data';
        }
      } else if (this.#state === 'data-end') this.#state = 'size';
      else if (line === '') return true; // blank line after the last chunk's trailers
    }
    return false;
  }
}

/** Proxies one exchange over a pooled socket; failures before the response starts go to onFail (503/504). */
export function rawForward(req: IncomingMessage, res: ServerResponse, o: RawForward, attempt = 0): void {
  const { socket, reused } = o.pool.acquire();
  socket.resume();
  const method = req.method ?? 'GET';
  const cl = req.headers['content-length'];
  const chunkedIn = cl === undefined && req.headers['transfer-encoding'] !== undefined;
  let head = `${method} ${o.path} HTTP/1.1\r\nhost: ${o.pool.host}:${o.pool.port}\r\n`;
  for (const [name, value] of Object.entries(o.headers)) {
    if (value === undefined || name === 'host' || name === 'expect' || (name === 'content-length' && chunkedIn)) continue;
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  }
  if (chunkedIn) head += 'transfer-encoding: chunked\r\n';
  head += 'connection: keep-alive\r\n\r\n';

  let buf: Buffer | null = null;
  let status = 0;
  let body: BodyMode | null = null;
  let reusable = true;
  let finished = false;
  let gotBytes = false;
  let sent = 0;
  let upstreamRef: string | null = null;
  let requestSent = !(cl !== undefined && cl !== '0') && !chunkedIn;

  const cleanup = () => {
    // A socket paused for client backpressure must not go back to the pool paused: the next exchange would never read.
    res.off('drain', onDrain);
    socket.resume();
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.off('timeout', onTimeout);
    socket.setTimeout(0);
  };
  // The upstream answered before the client finished sending (a 413, an auth refusal): the rest of the client's
  // body goes nowhere, but it is read off and dropped, so the client sees its answer and its keep-alive
  // connection stays usable instead of hanging on a request stream paused for an upstream that is gone.
  const discardRestOfBody = () => {
    if (requestSent || req.readableEnded) return;
    req.removeAllListeners('data');
    req.resume();
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    cleanup();
    res.end();
    if (reusable && requestSent) o.pool.release(socket);
    else socket.destroy();
    discardRestOfBody();
    o.onDone(status, sent, upstreamRef);
  };
  const fail = (code: 503 | 504) => {
    if (finished) return;
    finished = true;
    cleanup();
    socket.destroy();
    if (!res.headersSent) o.onFail(code);
    else res.destroy();
  };
  const onTimeout = () => fail(504);
  const onClose = () => {
    if (finished) return;
    // A pooled socket the upstream had just closed: retry once when the request had no body and nothing came back.
    if (reused && !gotBytes && attempt === 0 && requestSent && !res.headersSent) {
      finished = true;
      cleanup();
      return rawForward(req, res, o, 1);
    }
    if (body?.kind === 'close') {
      reusable = false;
      return finish();
    }
    fail(503);
  };
  const onDrain = () => socket.resume();
  const write = (data: Buffer) => {
    sent += data.length;
    if (data.length && !res.write(data) && !socket.isPaused()) {
      socket.pause();
      res.once('drain', onDrain);
    }
  };
  const onBody = (data: Buffer): void => {
    if (!body || body.kind === 'none') return;
    if (body.kind === 'close') return write(data);
    if (body.kind === 'length') {
      const take = Math.min(body.left, data.length);
      write(data.subarray(0, take));
      body.left -= take;
      if (body.left === 0) finish();
      return;
    }
    let done: boolean;
    try {
      done = body.decoder.push(data, write);
    } catch {
      return fail(503);
    }
    if (done) finish();
  };

  const onData = (chunk: Buffer): void => {
    gotBytes = true;
    if (body) return onBody(chunk);
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const end = buf.indexOf(CRLF2);
    if (end < 0) {
      if (buf.length > 64 * 1024) fail(503);
      return;
    }
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const rest = buf.subarray(end + 4);
    buf = null;
    status = Number(lines[0].slice(9, 12));
    if (status >= 100 && status < 200) return rest.length ? onData(rest) : undefined; // 100 Continue and friends
    const out: string[] = [];
    let length = -1;
    let chunked = false;
    reusable = !lines[0].startsWith('HTTP/1.0');
    for (let k = 1; k < lines.length; k++) {
      const c = lines[k].indexOf(':');
      if (c <= 0) continue;
      const name = lines[k].slice(0, c);
      const value = lines[k].slice(c + 1).trim();
      const lower = name.toLowerCase();
      if (lower === 'content-length') length = Number(value);
      else if (lower === 'transfer-encoding') chunked = /chunked/i.test(value);
      else if (lower === 'connection' && /close/i.test(value)) reusable = false;
      // a service that resolved the project itself (AI keys, mem0 tokens) names it for metering; clients never see it
      else if (lower === 'x-basalt-ref') {
        upstreamRef = value;
        continue;
      }
      // CORS and the request id are the gateway's own (added below), never a second copy from the service
      if (HOP_BY_HOP.has(lower) || lower.startsWith('access-control-') || lower === 'x-request-id') continue;
      out.push(name, value);
    }
    if (chunked) for (let k = out.length - 2; k >= 0; k -= 2) if (out[k].toLowerCase() === 'content-length') out.splice(k, 2);
    socket.setTimeout(0); // streams (SSE, downloads) may idle once they started
    res.writeHead(status, out.concat(o.responseHeaders));
    if (method === 'HEAD' || status === 204 || status === 304 || (!chunked && length === 0)) {
      body = { kind: 'none' };
      return finish();
    }
    body = chunked ? { kind: 'chunked', decoder: new ChunkedDecoder() } : length > 0 ? { kind: 'length', left: length } : { kind: 'close' };
    if (rest.length) onBody(rest);
  };

  socket.on('data', onData);
  socket.on('close', onClose);
  socket.setTimeout(o.timeoutMs);
  socket.on('timeout', onTimeout);
  if (attempt === 0) {
    res.on('close', () => {
      if (finished) return;
      finished = true;
      cleanup();
      socket.destroy(); // the client went away: stop the upstream work too
      o.onAbort?.(sent, upstreamRef);
    });
  }

  socket.write(head);
  if (requestSent) return;
  req.on('data', (d: Buffer) => {
    let ok: boolean;
    if (chunkedIn) {
      // All three parts of a chunk are written whatever write() answers: a full buffer delays the next chunk,
      // it must never drop part of this one (corked, they go out as one writev).
      socket.cork();
      socket.write(`${d.length.toString(16)}\r\n`);
      socket.write(d);
      ok = socket.write(CRLF);
      socket.uncork();
    } else ok = socket.write(d);
    if (!ok && !req.isPaused()) {
      req.pause();
      socket.once('drain', () => req.resume());
    }
  });
  req.on('end', () => {
    if (chunkedIn) socket.write('0\r\n\r\n');
    requestSent = true;
  });
}
