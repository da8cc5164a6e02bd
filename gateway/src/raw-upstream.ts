// The proxy hot path: one exchange forwarded over a pooled socket of @basalt/upstream, the response written to the
// client as it arrives (content-length, chunked, or until close) with backpressure both ways.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ChunkedDecoder, HeadReader, pipeBody, type UpstreamPool } from '@basalt/upstream';
import { HOP_BY_HOP } from './proxy.js';

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

/** Proxies one exchange over a pooled socket; failures before the response starts go to onFail (503/504). */
export function rawForward(req: IncomingMessage, res: ServerResponse, o: RawForward, attempt = 0): void {
  // a retry goes out on a new connection: the idle socket next in line may have been closed with the first
  const { socket, reused } = o.pool.acquire(attempt > 0);
  socket.resume();
  const method = req.method ?? 'GET';
  const cl = req.headers['content-length'];
  const chunkedIn = cl === undefined && req.headers['transfer-encoding'] !== undefined;
  let head = `${method} ${o.path} HTTP/1.1\r\nhost: ${o.pool.authority}\r\n`;
  for (const [name, value] of Object.entries(o.headers)) {
    if (value === undefined || name === 'host' || name === 'expect' || (name === 'content-length' && chunkedIn)) continue;
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  }
  if (chunkedIn) head += 'transfer-encoding: chunked\r\n';
  head += 'connection: keep-alive\r\n\r\n';

  const reader = new HeadReader();
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
    const got = reader.push(chunk);
    if (got === null) return;
    if (got instanceof Error) return fail(503);
    const { head: parsed, rest } = got;
    status = parsed.status;
    if (status >= 100 && status < 200) return rest.length ? onData(rest) : undefined; // 100 Continue and friends
    const { length, chunked } = parsed;
    reusable = parsed.keepAlive;
    const out: string[] = [];
    const f = parsed.fields;
    for (let k = 0; k < f.length; k += 2) {
      const lower = f[k].toLowerCase();
      // a service that resolved the project itself (AI keys, mem0 tokens) names it for metering; clients never see it
      if (lower === 'x-basalt-ref') {
        upstreamRef = f[k + 1];
        continue;
      }
      // CORS and the request id are the gateway's own (added below), never a second copy from the service
      if (HOP_BY_HOP.has(lower) || lower.startsWith('access-control-') || lower === 'x-request-id') continue;
      out.push(f[k], f[k + 1]);
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
  pipeBody(req, socket, chunkedIn, () => (requestSent = true), () => finished);
}
