// The forwarding hot path on node:http: keep-alive upstream agents, bodies streamed both ways,
// hop-by-hop headers dropped, a JSON 503 when the upstream is down and 504 when it does not answer.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

class NoDelayAgent extends http.Agent {
  // Small request heads and bodies are written separately; with Nagle on, each waits for the previous ACK
  // (and delayed ACKs add tens of ms), so upstream sockets disable it once, when created.
  override createConnection(...args: Parameters<http.Agent['createConnection']>) {
    const socket = super.createConnection(...args);
    (socket as import('node:net').Socket | undefined)?.setNoDelay?.(true);
    return socket;
  }
}

export const agent = new NoDelayAgent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 256, scheduling: 'lifo', timeout: 30_000 });

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: string[] = []): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, [...headers, 'content-type', 'application/json', 'content-length', String(Buffer.byteLength(payload))]);
  res.end(payload);
}

/** Client headers minus hop-by-hop and any x-basalt-* a client tried to set, plus ours. */
export function upstreamHeaders(req: IncomingMessage, ours: Record<string, string>, keepUpgrade = false): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if ((HOP_BY_HOP.has(name) && !(keepUpgrade && (name === 'upgrade' || name === 'connection'))) || name.startsWith('x-basalt-')) continue;
    const prev = out[name];
    out[name] = prev === undefined ? raw[i + 1] : Array.isArray(prev) ? [...prev, raw[i + 1]] : [String(prev), raw[i + 1]];
  }
  return Object.assign(out, ours);
}

function responseHeaders(raw: string[], extra: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || name.startsWith('access-control-')) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out.concat(extra);
}

export interface ForwardOptions {
  target: URL;
  path: string;
  headers: http.OutgoingHttpHeaders;
  /** added to the response (CORS, request id) */
  responseHeaders: string[];
  timeoutMs: number;
  onDone: (status: number) => void;
}

export function forward(req: IncomingMessage, res: ServerResponse, o: ForwardOptions, retried = false): void {
  const upstream = http.request({
    agent,
    host: o.target.hostname,
    port: o.target.port,
    method: req.method,
    path: o.path,
    headers: o.headers,
  });
  upstream.setTimeout(o.timeoutMs);
  upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('upstream timeout'), { code: 'UPSTREAM_TIMEOUT' })));
  upstream.on('response', (up) => {
    upstream.setTimeout(0); // streams (SSE, downloads) may idle as long as they like once they started
    res.writeHead(up.statusCode ?? 502, responseHeaders(up.rawHeaders, o.responseHeaders));
    up.pipe(res);
    up.on('end', () => o.onDone(up.statusCode ?? 502));
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    // A kept-alive socket the upstream had just closed: safe to retry once when the request has no body.
    if (!retried && upstream.reusedSocket && err.code === 'ECONNRESET' && (req.method === 'GET' || req.method === 'HEAD')) {
      return forward(req, res, o, true);
    }
    if (res.headersSent) return void res.destroy();
    const timeout = err.code === 'UPSTREAM_TIMEOUT';
    sendJson(res, timeout ? 504 : 503, { message: timeout ? 'Upstream timed out' : 'Service unavailable' }, o.responseHeaders);
    o.onDone(timeout ? 504 : 503);
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy(); // the client went away: stop the upstream work too
  });
  if (retried) upstream.end();
  else req.pipe(upstream);
}

/** WebSocket (and any other) upgrade: a raw byte tunnel once the upstream agrees to switch protocols. */
export function tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, path: string, headers: http.OutgoingHttpHeaders): void {
  const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers });
  const fail = (status: number, message: string) => {
    const body = JSON.stringify({ message });
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
  upstream.on('upgrade', (up, upSocket, upHead) => {
    const lines = [`HTTP/1.1 ${up.statusCode} ${up.statusMessage}`];
    for (let i = 0; i < up.rawHeaders.length; i += 2) lines.push(`${up.rawHeaders[i]}: ${up.rawHeaders[i + 1]}`);
    socket.write(lines.join('\r\n') + '\r\n\r\n');
    if (upHead.length) socket.write(upHead);
    if (head.length) upSocket.write(head);
    upSocket.pipe(socket).pipe(upSocket);
    upSocket.on('error', () => socket.destroy());
    socket.on('error', () => upSocket.destroy());
  });
  upstream.on('response', (up) => {
    let body = '';
    up.on('data', (c) => (body += c));
    up.on('end', () => {
      socket.end(`HTTP/1.1 ${up.statusCode} ${up.statusMessage}\r\ncontent-type: ${up.headers['content-type'] ?? 'text/plain'}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
  });
  upstream.on('error', () => fail(503, 'Service unavailable'));
  socket.on('error', () => upstream.destroy());
  upstream.end();
}
