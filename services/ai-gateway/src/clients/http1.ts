// A pooled keep-alive HTTP/1.1 client for model calls, under the egress policy: each request's host is resolved
// and checked (resolveAllowed) and the connection pinned to the checked address, as @basalt/egress does, over an
// UpstreamPool (@basalt/upstream) per host and checked address. It is
// node:http's ClientRequest/IncomingMessage/Agent and egressRequest's wrapper that it replaces: on a fast
// provider they cost more CPU than the rest of a model call. Redirects are never followed (model APIs send none).
import net from 'node:net';
import tls from 'node:tls';
import { EgressError, resolveAllowed, type EgressPolicy, type Resolved } from '@basalt/egress';
import { ChunkedDecoder, HeadReader, UpstreamPool, type ResponseHead, type UpstreamTarget } from '@basalt/upstream';
import { ResponseBody } from './http1-body.js';

export interface Http1Request {
  url: URL;
  /** lower-case names; host, content-length and connection are set here */
  headers: Record<string, string>;
  body: Buffer;
  signal: AbortSignal;
  /** until the response headers, then the longest silence while the body streams */
  timeoutMs: number;
}

export interface Http1Response {
  status: number;
  header(name: string): string | null;
  body: ResponseBody;
}

const INVALID_HEADER = /[\r\n\0]/;
// below Node's default keepAliveTimeout (5 s), so a local provider never closes a socket as we reuse it
const IDLE_MS = 4_000;
const MAX_IDLE_PER_HOST = 256;
// A host's checked address is reused this long: a DNS lookup (a thread-pool round trip) is not on every call's
// path to the first token. The connection is still pinned to an address the policy allowed.
const RESOLVED_MS = 10_000;

/** TLS with the name verified against the URL's host, over a socket pinned to the checked address */
const tlsTo = (servername: string | undefined) => (target: UpstreamTarget): net.Socket => {
  const socket = tls.connect({ ...(target as { host: string; port: number }), servername, ALPNProtocols: ['http/1.1'] });
  socket.setNoDelay(true);
  return socket;
};

export function http1Client(policy: EgressPolicy) {
  // one pool per scheme, host and checked address: a host that now resolves elsewhere gets new connections
  const pools = new Map<string, UpstreamPool>();
  const resolved = new Map<string, { at: number; to: Promise<Resolved> }>();

  function poolFor(url: URL, host: string, port: number, address: string): UpstreamPool {
    const key = `${url.protocol}//${url.host}@${address}`;
    let pool = pools.get(key);
    if (!pool) {
      const connect = url.protocol === 'https:' ? tlsTo(net.isIP(host) ? undefined : host) : undefined;
      pool = new UpstreamPool({ host: address, port }, IDLE_MS, MAX_IDLE_PER_HOST, connect);
      pools.set(key, pool);
    }
    return pool;
  }

  function resolve(host: string, port: number): Promise<Resolved> {
    const key = `${host}:${port}`;
    const now = performance.now();
    const hit = resolved.get(key);
    if (hit && now - hit.at < RESOLVED_MS) return hit.to;
    const to = resolveAllowed(host, port, policy);
    resolved.set(key, { at: now, to });
    to.catch(() => resolved.delete(key)); // a refusal or a failed lookup is asked again next time
    return to;
  }

  return async function request(r: Http1Request): Promise<Http1Response> {
    if (r.url.protocol !== 'http:' && r.url.protocol !== 'https:') throw new EgressError(`Outbound requests over ${r.url.protocol} are not allowed`);
    const host = r.url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(r.url.port || (r.url.protocol === 'https:' ? 443 : 80));
    const to = await resolve(host, port);
    if (r.signal.aborted) throw r.signal.reason;
    let head = `POST ${r.url.pathname}${r.url.search} HTTP/1.1\r\nhost: ${r.url.host}\r\ncontent-length: ${r.body.length}\r\nconnection: keep-alive\r\n`;
    for (const name in r.headers) {
      const value = r.headers[name];
      if (INVALID_HEADER.test(value)) throw new Error(`invalid value in the ${name} header`);
      head += `${name}: ${value}\r\n`;
    }
    return exchange(poolFor(r.url, host, port, to.address), `${head}\r\n`, r, false);
  };
}

/** One request over a pooled socket; a reused one the provider had just closed is retried once on a new one. */
function exchange(pool: UpstreamPool, head: string, r: Http1Request, fresh: boolean): Promise<Http1Response> {
  return new Promise((resolve, reject) => {
    const { socket, reused } = pool.acquire(fresh);
    const reader = new HeadReader();
    let body: ResponseBody | null = null;
    let decoder: ChunkedDecoder | null = null;
    let left = -1; // content-length still to read; -1 while chunked or until close
    let keepAlive = true;
    let gotBytes = false;
    let settled = false;
    let lastError: Error | null = null;

    const cleanup = () => {
      clearTimeout(deadline);
      r.signal.removeEventListener('abort', onAbort);
      socket.off('data', onData).off('close', onClose).off('error', onError).off('timeout', onIdle);
      socket.setTimeout(0);
      socket.resume(); // paused for a lagging reader, it must not go back to the pool paused
    };
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      if (body) body.fail(err);
      else if (!settled) reject(err);
      settled = true;
    };
    const complete = () => {
      cleanup();
      body!.end();
      if (keepAlive) pool.release(socket);
      else socket.destroy();
    };
    const onAbort = () => fail(r.signal.reason instanceof Error ? r.signal.reason : new Error('outbound request aborted'));
    const onError = (err: Error) => void (lastError = err);
    const onIdle = () => fail(new Error(`outbound request to ${r.url.host} timed out`));
    const onClose = () => {
      if (!gotBytes && reused && !settled) {
        cleanup();
        settled = true;
        return void exchange(pool, head, r, true).then(resolve, reject);
      }
      if (body && left === -1 && !decoder) return complete(); // a body framed by the connection's end
      fail(lastError ?? new Error('socket hang up'));
    };
    const onBody = (data: Buffer) => {
      if (decoder) {
        let done: boolean;
        try {
          done = decoder.push(data, (payload) => body!.push(payload));
        } catch (e) {
          return fail(e as Error);
        }
        if (done) complete();
      } else if (left === -1) body!.push(data);
      else {
        const take = Math.min(left, data.length);
        if (take > 0) body!.push(data.subarray(0, take));
        left -= take;
        if (left === 0) complete();
      }
    };
    const onHead = (parsed: ResponseHead, rest: Buffer) => {
      const { status } = parsed;
      const headers = new Map<string, string>();
      for (let k = 0; k < parsed.fields.length; k += 2) {
        const name = parsed.names[k >> 1];
        const had = headers.get(name);
        headers.set(name, had === undefined ? parsed.fields[k + 1] : `${had}, ${parsed.fields[k + 1]}`);
      }
      keepAlive = parsed.keepAlive;
      if (parsed.chunked) decoder = new ChunkedDecoder();
      else if (parsed.length >= 0) left = parsed.length;
      else keepAlive = false;
      clearTimeout(deadline);
      socket.setTimeout(r.timeoutMs);
      body = new ResponseBody(socket, () => fail(new Error('response body dropped')));
      settled = true;
      resolve({ status, header: (name) => headers.get(name.toLowerCase()) ?? null, body });
      if (left === 0 || status === 204 || status === 304) complete();
      else if (rest.length) onBody(rest);
    };
    const onData = (chunk: Buffer) => {
      gotBytes = true;
      if (body) return onBody(chunk);
      // the reader skips interim answers (100 Continue) and refuses a status line that is not HTTP's
      const got = reader.push(chunk);
      if (got === null) return;
      if (got instanceof Error) return fail(got);
      onHead(got.head, got.rest);
    };

    const deadline = setTimeout(() => fail(new Error(`outbound request timed out after ${r.timeoutMs} ms`)), r.timeoutMs);
    r.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData).on('close', onClose).on('error', onError).on('timeout', onIdle);
    socket.cork();
    socket.write(head, 'latin1');
    socket.write(r.body);
    socket.uncork();
  });
}
