// egressFetch against local HTTP servers: 127.0.0.77 and .78 play operator-allowed destinations, a canary on
// 127.0.0.1 plays what must never be reached. Redirects, the redirect cap, the closed-port oracle, DNS pinning.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { EgressError, egressFetch, egressPolicy } from './index.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function server(host: string, handle: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void, port = 0) {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((r) => s.listen(port, host, r));
  const { port: bound } = s.address() as AddressInfo;
  return { seen, port: bound, origin: `http://${host}:${bound}`, close: () => new Promise((r) => s.close(r)) };
}

type Server = Awaited<ReturnType<typeof server>>;
let site: Server;
let other: Server;
let canary: Server;
const policy = egressPolicy('127.0.0.77,127.0.0.78');

before(async () => {
  other = await server('127.0.0.78', (req, res, body) => res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null })));
  canary = await server('127.0.0.1', (_req, res) => res.end('reached'));
  site = await server('127.0.0.77', (req, res) => {
    const u = new URL(req.url!, 'http://x');
    const to = u.searchParams.get('to');
    if (to) return res.writeHead(Number(u.searchParams.get('status') ?? 302), { location: to }).end();
    if (u.pathname === '/loop') return res.writeHead(302, { location: '/loop' }).end();
    if (u.pathname === '/silent') return;
    res.writeHead(200, { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' }).end(`hello ${req.headers.host}`);
  });
});
after(() => Promise.all([site.close(), other.close(), canary.close()]));

const blocked = (e: unknown) => e instanceof EgressError && e.code === 'egress_blocked';

test('an allowed destination answers like fetch: status, repeated headers, streamed body, final url', async () => {
  const r = await egressFetch(`${site.origin}/hi`, { policy });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), `hello 127.0.0.77:${site.port}`);
  assert.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
  assert.equal(r.url, `${site.origin}/hi`);
  // a Request of another fetch implementation (as Miniflare hands over) is read through its fields
  const foreign = { url: `${other.origin}/x`, method: 'PUT', headers: new Map([['authorization', 'Bearer t']]), body: {}, redirect: 'follow', arrayBuffer: async () => new TextEncoder().encode('sent').buffer };
  assert.deepEqual(await (await egressFetch(foreign as never, { policy })).json(), { method: 'PUT', body: 'sent', auth: 'Bearer t' });
});

test('blocked destinations are refused before connecting, with one error whether the port is open or closed', async () => {
  const closed = await server('127.0.0.1', () => undefined);
  await closed.close();
  const messages = [];
  for (const port of [canary.port, closed.port]) {
    const e = await egressFetch(`http://127.0.0.1:${port}/`, { policy }).catch((x: unknown) => x);
    assert.ok(blocked(e), String(e));
    messages.push((e as Error).message);
  }
  assert.equal(messages[0], messages[1]);
  for (const url of [`http://localhost:${canary.port}/`, `http://2130706433:${canary.port}/`, `http://[::ffff:127.0.0.1]:${canary.port}/`, 'http://169.254.169.254/', 'ftp://127.0.0.77/']) {
    await assert.rejects(egressFetch(url, { policy }), blocked, url);
  }
  assert.equal(canary.seen.length, 0);
});

test('every redirect hop is checked again: a redirect to loopback is refused and never reached', async () => {
  for (const to of [`http://127.0.0.1:${canary.port}/`, `http://localhost:${canary.port}/x`, `http://0x7f.1:${canary.port}/`]) {
    await assert.rejects(egressFetch(`${site.origin}/r?to=${encodeURIComponent(to)}`, { policy }), blocked, to);
  }
  assert.equal(canary.seen.length, 0);
});

test('redirects are followed as fetch does: 303 and 302-after-POST become GET, 307 keeps the body, credentials stay on their origin', async () => {
  const via = (status: number) => `${site.origin}/r?status=${status}&to=${encodeURIComponent(`${other.origin}/end`)}`;
  const init = { policy, method: 'POST', body: 'payload', headers: { authorization: 'Bearer secret' } };
  assert.deepEqual(await (await egressFetch(via(302), init)).json(), { method: 'GET', body: '', auth: null });
  assert.deepEqual(await (await egressFetch(via(303), init)).json(), { method: 'GET', body: '', auth: null });
  assert.deepEqual(await (await egressFetch(via(307), init)).json(), { method: 'POST', body: 'payload', auth: null });
  const manual = await egressFetch(via(302), { ...init, redirect: 'manual' });
  assert.equal(manual.status, 302);
  assert.equal(manual.headers.get('location'), `${other.origin}/end`);
});

test('redirects are capped: the sixth is refused', async () => {
  const before = site.seen.length;
  await assert.rejects(egressFetch(`${site.origin}/loop`, { policy }), (e: unknown) => blocked(e) && /more than 5 redirects/.test(String(e)));
  assert.equal(site.seen.length - before, 6);
  await assert.rejects(egressFetch(`${site.origin}/loop`, { policy, maxRedirects: 1 }), /more than 1 redirects/);
});

test('allowOrigins reach the platform’s own origin, and nothing else on that address', async () => {
  const r = await egressFetch(`${canary.origin}/`, { policy, allowOrigins: [`${canary.origin}/any/path`] });
  assert.equal(await r.text(), 'reached');
  await assert.rejects(egressFetch(`http://127.0.0.1:${other.port}/`, { policy, allowOrigins: [canary.origin] }), blocked);
  canary.seen.length = 0;
});

test('the connection is pinned to the checked address: a second DNS answer cannot rebind it to loopback', async () => {
  const twin = await server('127.0.0.1', (_req, res) => res.end('rebound'), site.port).catch(() => null);
  const original = { promises: dns.promises.lookup, callback: dns.lookup };
  let asked = 0;
  dns.promises.lookup = (async () => (asked++ === 0 ? [{ address: '127.0.0.77', family: 4 }] : [{ address: '127.0.0.1', family: 4 }])) as never;
  dns.lookup = ((_h: string, _o: unknown, cb: (...a: unknown[]) => void) => cb(null, '127.0.0.1', 4)) as never;
  syncBuiltinESMExports();
  try {
    const r = await egressFetch(`http://rebind.test:${site.port}/`, { policy });
    assert.equal(await r.text(), `hello rebind.test:${site.port}`, 'Host stays the name; the checked address answered');
    assert.equal(asked, 1);
  } finally {
    Object.assign(dns.promises, { lookup: original.promises });
    dns.lookup = original.callback;
    syncBuiltinESMExports();
    await twin?.close();
  }
  assert.equal(twin?.seen.length ?? 0, 0);
});

test('timeoutMs bounds the wait for an answer; the caller’s signal aborts too', async () => {
  await assert.rejects(egressFetch(`${site.origin}/silent`, { policy, timeoutMs: 200 }), /timed out/);
  await assert.rejects(egressFetch(`${site.origin}/silent`, { policy, signal: AbortSignal.timeout(100) }), /abort|timeout/i);
});
