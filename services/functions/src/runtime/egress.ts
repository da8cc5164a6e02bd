// Outbound fetch from functions: public internet only. Every address a host resolves to is checked, and the
// connection is pinned to a checked address, so DNS rebinding cannot swap in a private one afterwards.
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Readable } from 'node:stream';

const V4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const v4 = (ip: string) => ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;

export function isBlockedAddress(ip: string): boolean {
  if (net.isIPv4(ip)) {
    const n = v4(ip);
    return V4_BLOCKED.some(([base, bits]) => (n >>> (32 - bits)) === (v4(base) >>> (32 - bits)));
  }
  const a = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isBlockedAddress(mapped[1]);
  // loopback, unspecified, unique-local, link-local, multicast, NAT64 (reaches private v4), IPv4-compatible
  return a === '::1' || a === '::' || /^f[cd]/.test(a) || /^fe[89ab]/.test(a) || a.startsWith('ff') || a.startsWith('64:ff9b:') || a.startsWith('::ffff:') || /^::\d/.test(a);
}

const blocked = (reason: string) =>
  new Response(JSON.stringify({ code: 'egress_blocked', message: reason }), { status: 403, headers: { 'content-type': 'application/json', 'x-basalt-egress': 'blocked' } });

/**
 * `allowedOrigins` are reachable whatever they resolve to: the platform's own public gateway, so a function can
 * call its project's APIs with supabase-js even where that gateway is on a private or loopback address. The
 * gateway is the public entry point and checks keys like any other caller's request.
 */
export function egressGuard(allowedOrigins: string[]) {
  const allowed = new Set(allowedOrigins.map((o) => new URL(o).origin));
  return (request: Request) => guardedFetch(request, allowed);
}

async function guardedFetch(request: Request, allowed: Set<string>): Promise<Response> {
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return blocked(`scheme ${url.protocol} is not allowed`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = net.isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return blocked(`cannot resolve ${host}`);
  }
  if (addresses.length === 0) return blocked(`cannot resolve ${host}`);
  if (!allowed.has(url.origin) && addresses.some(isBlockedAddress)) return blocked(`egress to ${host} is not allowed: private, loopback or link-local address`);
  const pinned = addresses[0];
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, {
      method: request.method,
      headers: Object.fromEntries(request.headers),
      // Node asks with { all: true } (happy eyeballs) or for one address; either way only the checked one is given.
      lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
        const family = net.isIPv6(pinned) ? 6 : 4;
        if (opts?.all) cb(null, [{ address: pinned, family }]);
        else cb(null, pinned, family);
      }) as never,
      timeout: 30_000,
    }, (res) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const status = res.statusCode ?? 502;
      const empty = status === 204 || status === 205 || status === 304 || request.method === 'HEAD';
      if (empty) res.resume();
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status, headers }));
    });
    req.on('timeout', () => req.destroy(new Error('outbound request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
