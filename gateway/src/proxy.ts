// What the gateway sends upstream besides the forwarded request (raw-upstream.ts): the client's headers minus
// hop-by-hop and x-basalt-* ones, JSON answers of its own, and the WebSocket tunnel.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** a hop-by-hop header (RFC 9110, section 7.6.1), by its lower-case name: a switch, not a Set, which would hash the name */
export function isHopByHop(name: string): boolean {
  switch (name) {
    case 'connection': case 'keep-alive': case 'proxy-authenticate': case 'proxy-authorization': case 'te': case 'trailer':
    case 'transfer-encoding': case 'upgrade':
      return true;
  }
  return false;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: string[] = []): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, [...headers, 'content-type', 'application/json', 'content-length', String(Buffer.byteLength(payload))]);
  res.end(payload);
}

/**
 * A WebSocket upgrade's headers for the tunnel: the client's minus hop-by-hop (but for upgrade and connection) and
 * any x-basalt-* a client tried to set, then ours ([name, value, …], a later one replacing an earlier).
 */
export function upgradeHeaders(req: IncomingMessage, ours: string[]): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if ((isHopByHop(name) && name !== 'upgrade' && name !== 'connection') || name.startsWith('x-basalt-')) continue;
    const prev = out[name];
    out[name] = prev === undefined ? raw[i + 1] : Array.isArray(prev) ? [...prev, raw[i + 1]] : [String(prev), raw[i + 1]];
  }
  for (let k = 0; k < ours.length; k += 2) out[ours[k]] = ours[k + 1];
  return out;
}

/**
 * The request's header lines for the upstream, as raw-upstream.ts writes them: the client's minus hop-by-hop, x-basalt-*,
 * host, expect and any that `ours` ([name, value, …], names lower case) sets, then ours. Values are the parser's, which
 * holds no CR or LF, and ours are the gateway's own.
 */
export function headerLines(req: IncomingMessage, ours: string[]): string {
  let out = '';
  const raw = req.rawHeaders;
  next: for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (isHopByHop(name) || name === 'host' || name === 'expect' || name.startsWith('x-basalt-')) continue;
    for (let k = 0; k < ours.length; k += 2) if (ours[k] === name) continue next;
    out += `${name}: ${raw[i + 1]}\r\n`;
  }
  for (let k = 0; k < ours.length; k += 2) out += `${ours[k]}: ${ours[k + 1]}\r\n`;
  return out;
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
    socket.write(lines.join('\r\n') + '\r\n\r\n', 'latin1'); // node:http read the head one byte per character
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
