// The gateway's listening socket: the common request (GET or HEAD, HTTP/1.1, no body, strict syntax) is read and
// answered here, without node:http's per-request machinery (7.4 µs of a bare Node proxy's 24.6 in bench/gateway);
// any other connection is handed, with the bytes read so far, to a node:http server that takes it from there
// (bodies, upgrades, HTTP/1.0, Connection: close, malformed heads and their 400s), for good.
// The handler gets a LiteRequest and LiteResponse on this path: only what the gateway's GET path uses of
// IncomingMessage and ServerResponse (headers, rawHeaders, url, method, socket; writeHead with a [name, value, …]
// array, write with backpressure and 'drain', end, destroy, 'close' when the client goes first).
import { EventEmitter } from 'node:events';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** a header value's characters: HTAB, visible ASCII and space, obs-text (as node:http's check) */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** a request target's characters: visible ASCII (anything else, raw UTF-8 bytes included, is node:http's to judge) */
const BAD_TARGET = /[^\x21-\x7e]/;
const HEAD_END = Buffer.from('\r\n\r\n');
/** a body up to this many bytes goes out in one string with its head or chunk framing */
const ONE_STRING = 8 * 1024;

/** header names found to be tokens: requests and answers repeat a few dozen, checked once each */
const tokens = new Set<string>();
function isToken(name: string): boolean {
  if (tokens.has(name)) return true;
  if (!TOKEN.test(name)) return false;
  if (tokens.size < 4096) tokens.add(name);
  return true;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The Date header's text, made once a second: a timer drops it when its second ends (as node:http does), so an
 * answer reads no clock.
 */
let dateText: string | null = null;
const dropDate = () => void (dateText = null);
function httpDate(): string {
  if (dateText === null) {
    const now = new Date();
    dateText = now.toUTCString();
    setTimeout(dropDate, 1000 - now.getMilliseconds()).unref();
  }
  return dateText;
}

export class LiteRequest {
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly complete = true;
  readonly readableEnded = true;
  constructor(
    readonly method: string, readonly url: string, readonly headers: Record<string, string>, readonly rawHeaders: string[],
    readonly socket: Socket,
  ) {}

  // no body to read: what a body's readers call is a no-op
  on(): this { return this; }
  once(): this { return this; }
  resume(): this { return this; }
  removeAllListeners(): this { return this; }
  destroy(): void { this.socket.destroy(); }
}

export class LiteResponse extends EventEmitter {
  headersSent = false;
  writableEnded = false;
  statusCode = 200;
  #head: string | null = null;
  #chunked = false;
  #noBody = false;
  #awaitingDrain = false;

  constructor(readonly socket: Socket, private readonly isHead: boolean, private readonly onEnd: (res: LiteResponse) => void) {
    super();
  }

  /** as ServerResponse: throws for a name or value node:http would refuse, before anything is written */
  writeHead(status: number, headers: string[] = []): this {
    if (this.headersSent) throw new Error('headers already sent');
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let length = false;
    let date = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = String(headers[i + 1]);
      if (!isToken(name)) throw new TypeError(`Header name must be a valid HTTP token ["${name}"]`);
      if (BAD_VALUE.test(value)) throw new TypeError(`Invalid character in header content ["${name}"]`);
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') date = true;
      head += `${name}: ${value}\r\n`;
    }
    if (!date) head += `date: ${httpDate()}\r\n`;
    this.#noBody = this.isHead || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (!length && !this.#noBody) {
      this.#chunked = true;
      head += 'transfer-encoding: chunked\r\n';
    }
    this.#head = `${head}\r\n`;
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  /** the head (if not sent yet) and the body's bytes, in one write (strings as UTF-8, as ServerResponse) */
  #send(data: Buffer | string | undefined, last: boolean): boolean {
    const s = this.socket;
    const head = this.#head;
    this.#head = null;
    const body = this.#noBody || data === undefined || data.length === 0 ? null : typeof data === 'string' ? Buffer.from(data) : data;
    if (!this.#chunked && head === null) return body === null || s.write(body);
    if (body === null || body.length <= ONE_STRING) {
      // one latin1 string (a byte a character): a single write call, cheaper than the corked writev of its parts
      let out = head ?? '';
      if (body !== null) out += this.#chunked ? `${body.length.toString(16)}\r\n${body.toString('latin1')}\r\n` : body.toString('latin1');
      if (last && this.#chunked) out += '0\r\n\r\n';
      return out.length === 0 ? !s.writableNeedDrain : s.write(out, 'latin1');
    }
    s.cork();
    if (head !== null) s.write(head, 'latin1');
    if (this.#chunked) s.write(`${body.length.toString(16)}\r\n`, 'latin1');
    s.write(body);
    if (this.#chunked) s.write(last ? '\r\n0\r\n\r\n' : '\r\n', 'latin1');
    s.uncork();
    return !s.writableNeedDrain;
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.socket.destroyed) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const ok = this.#send(chunk, false);
    if (!ok && !this.#awaitingDrain) {
      this.#awaitingDrain = true;
      this.socket.once('drain', () => {
        this.#awaitingDrain = false;
        this.emit('drain');
      });
    }
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.writableEnded = true;
    if (!this.socket.destroyed) this.#send(chunk, true);
    this.onEnd(this);
    return this;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** head[from, to) without optional whitespace (SP, HTAB) at either end */
function trimOws(head: string, from: number, to: number): string {
  while (from < to && (head.charCodeAt(from) === 32 || head.charCodeAt(from) === 9)) from++;
  while (to > from && (head.charCodeAt(to - 1) === 32 || head.charCodeAt(to - 1) === 9)) to--;
  return head.slice(from, to);
}

/** the request, or null for one left to node:http */
function parse(head: string, socket: Socket): LiteRequest | null {
  const lineEnd = head.indexOf('\r\n');
  const line = lineEnd < 0 ? head : head.slice(0, lineEnd);
  const s1 = line.indexOf(' ');
  const s2 = line.indexOf(' ', s1 + 1);
  if (s1 <= 0 || s2 < 0 || line.slice(s2 + 1) !== 'HTTP/1.1') return null;
  const method = line.slice(0, s1);
  if (method !== 'GET' && method !== 'HEAD') return null;
  const url = line.slice(s1 + 1, s2);
  if (url.charCodeAt(0) !== 47 /* / */ || BAD_TARGET.test(url)) return null;
  // a dictionary from the start: every request's headers object has the same map, so the handler's reads of it stay
  // monomorphic whichever headers came, in whatever order (and no name is found on Object.prototype)
  const headers: Record<string, string> = Object.create(null);
  const rawHeaders: string[] = [];
  let at = lineEnd < 0 ? head.length : lineEnd + 2;
  while (at < head.length) {
    let end = head.indexOf('\r\n', at);
    if (end < 0) end = head.length;
    const colon = head.indexOf(':', at);
    if (colon <= at || colon > end) return null;
    const name = head.slice(at, colon);
    const value = trimOws(head, colon + 1, end);
    if (!isToken(name) || BAD_VALUE.test(value)) return null;
    const lower = name.toLowerCase();
    switch (lower) {
      case 'content-length': case 'transfer-encoding': case 'upgrade': case 'expect': case 'te': case 'trailer':
        return null;
      case 'connection':
        if (value.toLowerCase() !== 'keep-alive') return null;
    }
    if (lower in headers) return null; // a repeated name: node:http's rules for joining them
    headers[lower] = value;
    rawHeaders.push(name, value);
    at = end + 2;
  }
  if (headers.host === undefined) return null;
  return new LiteRequest(method, url, headers, rawHeaders, socket);
}

export interface FrontOptions {
  /** longest head read here; a longer one goes to node:http, which answers 431 (its maxHeaderSize is the same) */
  maxHeadBytes?: number;
  /** a head begun must be whole within this (node:http's headersTimeout) */
  headersTimeoutMs?: number;
  /** a connection with no request in flight is closed after this (the server's keepAliveTimeout) */
  idleTimeoutMs?: number;
}

/**
 * The listening server: `raw` is the node:http server the handed-over connections go to (it never listens itself;
 * its connection tracking, which node:http starts on 'listening', is started here).
 */
export class Front {
  readonly server: net.Server;
  readonly #connections = new Set<FrontConnection>();
  readonly maxHeadBytes: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;

  constructor(readonly raw: Server, readonly handle: Handler, o: FrontOptions = {}) {
    this.maxHeadBytes = o.maxHeadBytes ?? 16 * 1024;
    this.headersTimeoutMs = o.headersTimeoutMs ?? raw.headersTimeout;
    this.idleTimeoutMs = o.idleTimeoutMs ?? raw.keepAliveTimeout;
    // node:http tracks connections (headers and request timeouts, closeIdleConnections) from 'listening' on
    raw.emit('listening');
    this.server = net.createServer({ noDelay: true }, (socket) => {
      const c = new FrontConnection(this, socket);
      this.#connections.add(c);
      socket.once('close', () => this.#connections.delete(c));
    });
  }

  handOver(c: FrontConnection): void {
    this.#connections.delete(c);
    this.raw.emit('connection', c.socket);
  }

  /** closes the connections with no request in flight (the drain's reaper, as closeIdleConnections) */
  closeIdle(): void {
    for (const c of this.#connections) if (c.idle) c.socket.destroy();
  }

  closeAll(): void {
    for (const c of this.#connections) c.socket.destroy();
  }
}

class FrontConnection {
  buf: Buffer | null = null;
  current: LiteResponse | null = null;
  #headTimer: NodeJS.Timeout | null = null;
  readonly #onData = (chunk: Buffer) => this.#data(chunk);
  readonly #onError = () => this.socket.destroy();
  readonly #onClose = () => this.#closed();
  /** the idle timer fired while a request was in flight: it is armed again once that request is answered */
  #expired = false;
  readonly #onTimeout = () => {
    if (this.current === null) this.socket.destroy();
    else this.#expired = true;
  };
  readonly #ended = (res: LiteResponse) => {
    if (this.current !== res) return;
    this.current = null;
    // Otherwise the timer still runs: each read and write re-armed it (node:net), so it counts from the last bytes,
    // the answer's own at the latest, without a timer made and cleared per request.
    if (this.#expired) {
      this.#expired = false;
      this.socket.setTimeout(this.front.idleTimeoutMs);
    }
    // a pipelined request waits for the end of the call that answered this one (not run inside its res.end())
    if (this.buf !== null) queueMicrotask(() => this.#next());
  };

  constructor(readonly front: Front, readonly socket: Socket) {
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('timeout', this.#onTimeout);
    socket.setTimeout(front.idleTimeoutMs);
  }

  get idle(): boolean {
    return this.current === null && this.buf === null;
  }

  #data(chunk: Buffer): void {
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    this.#next();
  }

  #closed(): void {
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.current?.emit('close');
  }

  #next(): void {
    const buf = this.buf;
    if (this.current !== null || buf === null) return;
    const end = buf.indexOf(HEAD_END);
    if (end < 0 || end > this.front.maxHeadBytes) {
      if (end < 0 && buf.length <= this.front.maxHeadBytes) return this.#waitForHead();
      return this.#handOver();
    }
    const req = parse(buf.toString('latin1', 0, end), this.socket);
    if (req === null) return this.#handOver();
    if (this.#headTimer) {
      clearTimeout(this.#headTimer);
      this.#headTimer = null;
    }
    this.buf = buf.length > end + 4 ? buf.subarray(end + 4) : null;
    const res = (this.current = new LiteResponse(this.socket, req.method === 'HEAD', this.#ended));
    try {
      this.front.handle(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    } catch {
      this.socket.destroy(); // a handler that throws leaves no answer to wait for
    }
  }

  /** part of a head: the rest must come within the headers timeout, however slowly it trickles */
  #waitForHead(): void {
    if (this.#headTimer || this.front.headersTimeoutMs <= 0) return;
    this.#headTimer = setTimeout(() => this.socket.destroy(), this.front.headersTimeoutMs);
    this.#headTimer.unref();
  }

  #handOver(): void {
    const { socket } = this;
    if (this.#headTimer) clearTimeout(this.#headTimer);
    socket.off('data', this.#onData);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    socket.off('timeout', this.#onTimeout);
    socket.setTimeout(0);
    // node:http reads from here on: the bytes already read first
    if (this.buf !== null) socket.unshift(this.buf);
    this.buf = null;
    this.front.handOver(this);
  }
}
