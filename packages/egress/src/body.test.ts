// The outbound body against local HTTP servers (127.0.0.77 allowed, 127.0.0.1 the canary never to be reached): none
// of it is read before the destination is checked, a long one streams instead of being held, and what cannot be
// sent as declared or sent again is an error instead of a different request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { REPLAY_BYTES } from './body.js';
import { EgressError, egressFetch, egressPolicy } from './index.js';

interface Seen { url: string; headers: http.IncomingHttpHeaders; bytes: number; complete: boolean }

async function server(host: string, handle: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, s) => s.end('ok')) {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    const entry: Seen = { url: req.url!, headers: req.headers, bytes: 0, complete: false };
    seen.push(entry);
    req.on('data', (c: Buffer) => (entry.bytes += c.length));
    req.on('end', () => {
      entry.complete = true;
      handle(req, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, host, r));
  const { port } = s.address() as AddressInfo;
  return { s, seen, port, origin: `http://${host}:${port}`, close: () => new Promise((r) => s.close(r)) };
}

let site: Awaited<ReturnType<typeof server>>;
let canary: Awaited<ReturnType<typeof server>>;
const policy = egressPolicy('127.0.0.77');
const blocked = (e: unknown) => e instanceof EgressError && e.code === 'egress_blocked';

before(async () => {
  canary = await server('127.0.0.1');
  site = await server('127.0.0.77', (req, res) => {
    const to = new URL(req.url!, 'http://x').searchParams.get('to');
    if (to) return void res.writeHead(307, { location: to }).end();
    res.end('ok');
  });
});
after(() => Promise.all([site.close(), canary.close()]));

/** `chunks` chunks of `size` bytes, each made only when read; `made()` says how many bytes so far. */
function body(chunks: number, size = 64 * 1024) {
  let made = 0;
  let reachedEnd: () => void = () => undefined;
  const ended = new Promise<void>((r) => (reachedEnd = r));
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (made === chunks * size) {
        c.close();
        return reachedEnd();
      }
      made += size;
      c.enqueue(new Uint8Array(size));
    },
  }, { highWaterMark: 0 });
  return { stream, made: () => made, ended };
}

/** Runs `f` with host names resolving to 127.0.0.1, noting how much of `b` was made when the name was looked up. */
async function resolvingToLoopback<T>(b: ReturnType<typeof body>, f: () => Promise<T>): Promise<{ madeAtCheck: number | null; result: T }> {
  const original = dns.promises.lookup;
  let madeAtCheck: number | null = null;
  dns.promises.lookup = (async () => {
    madeAtCheck = b.made();
    return [{ address: '127.0.0.1', family: 4 }];
  }) as never;
  syncBuiltinESMExports();
  try {
    return { result: await f(), madeAtCheck };
  } finally {
    Object.assign(dns.promises, { lookup: original });
    syncBuiltinESMExports();
  }
}

const REFUSED: [string, (url: string, stream: ReadableStream) => Promise<Response>][] = [
  ['a Request', (url, stream) => egressFetch(new Request(url, { method: 'POST', body: stream, duplex: 'half' } as RequestInit), { policy })],
  ['a URL and a stream body', (url, stream) => egressFetch(url, { policy, method: 'POST', body: stream, duplex: 'half' } as never)],
  ['another fetch implementation\'s Request', (url, stream) => egressFetch({ url, method: 'POST', headers: new Map(), body: stream, redirect: 'follow', arrayBuffer: () => assert.fail('read whole') } as never, { policy })],
];

for (const [name, call] of REFUSED) {
  test(`${name}: nothing of the body is read before the destination is checked, and a refused one is only dropped`, async () => {
    const b = body(64);
    const { madeAtCheck, result } = await resolvingToLoopback(b, () => call(`http://private.test:${canary.port}/`, b.stream).catch((e: unknown) => e));
    assert.ok(blocked(result), String(result));
    assert.equal(madeAtCheck, 0, 'read before the address check');
    // dropped, not left: a sender that waits for its upload to end (workerd) gets the refusal
    await b.ended;
    assert.equal(canary.seen.length, 0);
  });
}

test('a body over REPLAY_BYTES streams: the upstream has bytes before it is all made, chunked, and gets it whole', async () => {
  const total = 64 * 1024 * 1024;
  const b = body(total / (64 * 1024));
  let madeAtFirstByte: number | null = null;
  site.s.once('request', (req: http.IncomingMessage) => req.once('data', () => (madeAtFirstByte = b.made())));
  const r = await egressFetch(`${site.origin}/upload`, { policy, method: 'POST', body: b.stream, duplex: 'half' } as never);
  assert.equal(await r.text(), 'ok');
  const seen = site.seen.at(-1)!;
  assert.deepEqual([seen.url, seen.bytes, seen.complete, seen.headers['transfer-encoding']], ['/upload', total, true, 'chunked']);
  assert.ok(madeAtFirstByte !== null && madeAtFirstByte < total, `the whole body was made (${madeAtFirstByte} bytes) before any was sent`);
});

test('a streamed body cannot follow a 307 that would send it again: an error, not a resend', async () => {
  const b = body(2 * REPLAY_BYTES / (64 * 1024));
  const before = site.seen.length;
  const to = `${site.origin}/after-redirect`;
  const e = await egressFetch(`${site.origin}/r?to=${encodeURIComponent(to)}`, { policy, method: 'POST', body: b.stream, duplex: 'half' } as never).catch((x: unknown) => x);
  assert.ok(e instanceof TypeError && /redirect sends the body again/.test(e.message), String(e));
  assert.deepEqual(site.seen.slice(before).map((s) => s.url), [`/r?to=${encodeURIComponent(to)}`]);
});

test('a body up to REPLAY_BYTES from a stream is sent with its length and again after a 307', async () => {
  const b = body(4);
  const before = site.seen.length;
  const to = `${site.origin}/after-redirect`;
  const r = await egressFetch(`${site.origin}/r?to=${encodeURIComponent(to)}`, { policy, method: 'POST', body: b.stream, duplex: 'half' } as never);
  assert.equal(await r.text(), 'ok');
  const [first, second] = site.seen.slice(before);
  assert.deepEqual([second.url, second.bytes, second.headers['content-length']], ['/after-redirect', 4 * 64 * 1024, String(4 * 64 * 1024)]);
  assert.equal(first.headers['content-length'], String(4 * 64 * 1024));
});

test('a streamed body longer than the content-length it declares is refused before any of it is sent', async () => {
  const b = body(2 * REPLAY_BYTES / (64 * 1024));
  const before = site.seen.length;
  const req = new Request(`${site.origin}/declared`, { method: 'POST', headers: { 'content-length': '10' }, body: b.stream, duplex: 'half' } as RequestInit);
  await assert.rejects(egressFetch(req, { policy }), /longer than its content-length \(10\)/);
  assert.equal(site.seen.length, before, 'no request (nor a second one smuggled in its body) reached the upstream');
});

test('a streamed body shorter than the content-length it declares is cut off, never a complete request', async () => {
  const size = 2 * REPLAY_BYTES;
  const b = body(size / (64 * 1024));
  const before = site.seen.length;
  const req = new Request(`${site.origin}/declared`, { method: 'POST', headers: { 'content-length': String(size + 1) }, body: b.stream, duplex: 'half' } as RequestInit);
  await assert.rejects(egressFetch(req, { policy }), /shorter than its content-length/);
  assert.ok(site.seen.slice(before).every((s) => !s.complete));
});

test('a body whose stream fails while it is read is that failure, and no request is sent', async () => {
  let pulls = 0;
  const failing = new ReadableStream<Uint8Array>({
    pull(c) {
      if (++pulls > 2) return c.error(new Error('the body broke'));
      c.enqueue(new Uint8Array(1024));
    },
  }, { highWaterMark: 0 });
  const before = site.seen.length;
  await assert.rejects(egressFetch(`${site.origin}/broken`, { policy, method: 'POST', body: failing, duplex: 'half' } as never), /the body broke/);
  assert.equal(site.seen.length, before);
});

// bodies fetch knows the length of keep it past REPLAY_BYTES (S3 refuses a presigned PUT sent chunked), and a Blob
// is read again for a 307 as fetch reads it again
const LONG = 2 * REPLAY_BYTES;
for (const [name, make] of [
  ['an ArrayBuffer', () => new ArrayBuffer(LONG)],
  ['a typed array view', () => new Uint16Array(new ArrayBuffer(LONG + 8), 8, LONG / 2)],
  ['a Blob', () => new Blob([new Uint8Array(LONG)], { type: 'application/x-test' })],
] as const) {
  test(`${name} over REPLAY_BYTES is sent with its length and again after a 307`, async () => {
    const before = site.seen.length;
    const to = `${site.origin}/known-${LONG}`;
    const r = await egressFetch(`${site.origin}/r?to=${encodeURIComponent(to)}`, { policy, method: 'PUT', body: make() });
    assert.equal(await r.text(), 'ok');
    // (an earlier test's refused request may still arrive meanwhile)
    const ours = site.seen.slice(before).filter((s) => s.url.includes(`known-${LONG}`));
    const sent = ours.map((s) => [s.url, s.bytes, s.headers['content-length'], s.headers['transfer-encoding']]);
    assert.deepEqual(sent, [[`/r?to=${encodeURIComponent(to)}`, LONG, String(LONG), undefined], [`/known-${LONG}`, LONG, String(LONG), undefined]]);
    if (name === 'a Blob') assert.equal(ours[1]!.headers['content-type'], 'application/x-test');
  });
}

test('another fetch implementation\'s Request whose body never loads: the caller\'s abort ends the call', async () => {
  const abort = new AbortController();
  const never = { url: `${site.origin}/never`, method: 'POST', headers: new Map(), body: {}, redirect: 'follow', arrayBuffer: () => new Promise<ArrayBuffer>(() => undefined) };
  const call = egressFetch(never as never, { policy, signal: abort.signal }).catch((e: unknown) => e);
  setTimeout(() => abort.abort(new Error('caller gave up')), 50);
  const e = await call;
  assert.ok(e instanceof Error && /caller gave up/.test(e.message), String(e));
  assert.ok(!site.seen.some((s) => s.url === '/never'));
});
