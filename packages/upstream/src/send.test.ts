import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Cancel, ChunkedDecoder, send, UpstreamPool } from './index.js';

const body = '4\r\nWiki\r\n6\r\npedia \r\nE;ext=1\r\nin \r\n\r\nchunks.\r\n0\r\nx-trailer: 1\r\n\r\n';

test('decodes a chunked body however the bytes are split', () => {
  for (let size = 1; size <= body.length; size++) {
    const d = new ChunkedDecoder();
    let out = '';
    let done = false;
    for (let i = 0; i < body.length; i += size) {
      assert.equal(done, false, `no bytes after the end (split ${size})`);
      done = d.push(Buffer.from(body.slice(i, i + size), 'latin1'), (b) => (out += b.toString('latin1')));
    }
    assert.equal(done, true, `split ${size}`);
    assert.equal(out, 'Wikipedia in \r\n\r\nchunks.');
  }
});

test('refuses a malformed chunk size', () => {
  assert.throws(() => new ChunkedDecoder().push(Buffer.from('zz\r\n'), () => undefined));
});

async function upstream(handler: http.RequestListener): Promise<{ pool: UpstreamPool; server: http.Server; connections: () => number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const pool = new UpstreamPool({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  return { pool, server, connections: () => connections, close: () => (pool.destroy(), server.closeAllConnections(), new Promise((r) => server.close(() => r()))) };
}

const text = async (s: Readable) => {
  let out = '';
  for await (const c of s) out += c;
  return out;
};

test('a small framed answer comes whole, and the socket is reused for the next exchange', async (t) => {
  const u = await upstream((req, res) => res.writeHead(201, { 'x-a': '1', 'set-cookie': ['a=1', 'b=2'] }).end(`hello ${req.method} ${req.url} ${req.headers['x-q']}`));
  t.after(u.close);
  for (let i = 0; i < 3; i++) {
    const res = await send(u.pool, { method: 'GET', path: `/p?i=${i}`, headers: { 'x-q': 'v' }, body: null });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-a'], '1');
    assert.equal(res.headers['set-cookie'], 'a=1, b=2');
    assert.equal(res.stream, null);
    assert.equal(res.whole!.toString(), `hello GET /p?i=${i} v`);
  }
  assert.equal(u.connections(), 1);
});

test('a chunked or large answer streams, with every byte', async (t) => {
  const big = 'x'.repeat(300_000);
  const u = await upstream((req, res) => {
    if (req.url === '/big') return void res.end(big);
    res.write('one,');
    setTimeout(() => res.end('two'), 20);
  });
  t.after(u.close);
  const chunked = await send(u.pool, { method: 'GET', path: '/chunked', headers: {}, body: null });
  assert.equal(chunked.whole, null);
  assert.equal(await text(chunked.stream!), 'one,two');
  const large = await send(u.pool, { method: 'GET', path: '/big', headers: {}, body: null });
  assert.equal(large.whole, null);
  assert.equal((await text(large.stream!)).length, big.length);
  const again = await send(u.pool, { method: 'GET', path: '/big', headers: {}, body: null });
  assert.equal((await text(again.stream!)).length, big.length);
  assert.equal(u.connections(), 1, 'a streamed exchange read to its end leaves the socket reusable');
});

test('HEAD and 204 answers are whole and empty', async (t) => {
  const u = await upstream((req, res) => (req.url === '/none' ? res.writeHead(204).end() : res.writeHead(200, { 'content-length': '42' }).end()));
  t.after(u.close);
  const head = await send(u.pool, { method: 'HEAD', path: '/', headers: {}, body: null });
  assert.equal(head.headers['content-length'], '42');
  assert.equal(head.whole!.length, 0);
  const none = await send(u.pool, { method: 'GET', path: '/none', headers: {}, body: null });
  assert.equal(none.status, 204);
  assert.equal(none.whole!.length, 0);
});

test('request bodies arrive intact, framed by their length or chunked', async (t) => {
  const u = await upstream((req, res) => {
    const h = createHash('sha256');
    req.on('data', (c) => h.update(c));
    req.on('end', () => res.end(`${req.headers['transfer-encoding'] ?? 'length'} ${h.digest('hex')}`));
  });
  t.after(u.close);
  const parts = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100_000, i));
  const digest = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
  const framed = await send(u.pool, { method: 'POST', path: '/', headers: { 'content-length': String(4_000_000) }, body: Readable.from(parts) });
  assert.equal(framed.whole!.toString(), `length ${digest}`);
  const chunked = await send(u.pool, { method: 'POST', path: '/', headers: {}, body: Readable.from(parts) });
  assert.equal(chunked.whole!.toString(), `chunked ${digest}`);
});

test('an abort before the answer rejects with its reason and drops the connection', async (t) => {
  const u = await upstream(() => undefined); // never answers
  t.after(u.close);
  const abort = new AbortController();
  const pending = send(u.pool, { method: 'GET', path: '/', headers: {}, body: null, signal: abort.signal });
  setTimeout(() => abort.abort(new Error('too slow')), 20);
  await assert.rejects(pending, /too slow/);
});

test('a Cancel aborts an exchange like an AbortSignal: mid-body it destroys the stream, and its listener is gone after', async (t) => {
  const u = await upstream((req, res) => {
    if (req.url === '/slow') return; // never answers
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (req.url === '/stream') res.write('x'.repeat(100_000)); // streamed (no length), and never ended
    else res.end('ok');
  });
  t.after(u.close);
  const early = new Cancel();
  const pending = send(u.pool, { method: 'GET', path: '/slow', headers: {}, body: null, signal: early });
  setTimeout(() => early.abort(new Error('deadline')), 20);
  await assert.rejects(pending, /deadline/);

  const late = new Cancel();
  const res = await send(u.pool, { method: 'GET', path: '/stream', headers: {}, body: null, signal: late });
  const failed = new Promise<Error>((resolve) => res.stream!.once('error', resolve));
  late.abort(new Error('wall time'));
  assert.match((await failed).message, /wall time/);

  const done = new Cancel();
  const ok = await send(u.pool, { method: 'GET', path: '/', headers: {}, body: null, signal: done });
  assert.equal(ok.whole!.toString(), 'ok');
  done.abort(new Error('after the end')); // the exchange is over: nothing is listening any more
  assert.equal(done.aborted, true);
});

test('a Cancel tells each listener once, forgets removed ones, and hands out a following AbortSignal', () => {
  const c = new Cancel();
  const heard: string[] = [];
  const a = () => heard.push('a');
  const b = () => heard.push('b');
  c.addEventListener('abort', a);
  c.addEventListener('abort', b);
  c.removeEventListener('abort', a);
  const signal = c.signal;
  assert.equal(signal.aborted, false);
  c.abort(new Error('first'));
  c.abort(new Error('second'));
  assert.deepEqual(heard, ['b']);
  assert.equal((c.reason as Error).message, 'first');
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as Error).message, 'first');
  assert.throws(() => c.throwIfAborted(), /first/);
  c.addEventListener('abort', a); // already cancelled: never called
  assert.deepEqual(heard, ['b']);
  const before = new Cancel();
  before.abort('gone');
  assert.equal(before.signal.aborted, true);
});

test('a pooled socket the upstream closed meanwhile is replaced; an unreachable upstream rejects', async (t) => {
  const u = await upstream((_req, res) => res.end('ok'));
  t.after(u.close);
  assert.equal((await send(u.pool, { method: 'GET', path: '/', headers: {}, body: null })).whole!.toString(), 'ok');
  u.server.closeIdleConnections();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await send(u.pool, { method: 'GET', path: '/', headers: {}, body: null })).whole!.toString(), 'ok');
  const gone = new UpstreamPool({ host: '127.0.0.1', port: 1 });
  await assert.rejects(send(gone, { method: 'GET', path: '/', headers: {}, body: null }));
});

test('destroying a streamed body drops its connection, so the next exchange gets a clean one', async (t) => {
  const u = await upstream((req, res) => {
    if (req.url === '/endless') {
      const tick = setInterval(() => res.write('x'.repeat(1000)), 5);
      res.on('close', () => clearInterval(tick));
      return;
    }
    res.end('fine');
  });
  t.after(u.close);
  const endless = await send(u.pool, { method: 'GET', path: '/endless', headers: {}, body: null });
  for await (const _ of endless.stream!) break;
  assert.equal((await send(u.pool, { method: 'GET', path: '/', headers: {}, body: null })).whole!.toString(), 'fine');
  assert.equal(u.connections(), 2);
});

test('a chunked answer whose body has not begun resolves at its head (an event stream is not held back)', async (t) => {
  let finish: (() => void) | undefined;
  const u = await upstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    finish = () => res.end('data: late\n\n');
  });
  t.after(u.close);
  const res = await send(u.pool, { method: 'GET', path: '/', headers: {}, body: null });
  assert.equal(res.headers['content-type'], 'text/event-stream');
  assert.equal(res.whole, null);
  finish!();
  assert.equal(await text(res.stream!), 'data: late\n\n');
});

test('a pool given its own connect function opens connections with it, and pools them as its own', async (t) => {
  const u = await upstream((_req, res) => res.end('ok'));
  t.after(u.close);
  const opened: string[] = [];
  const target = u.pool.target as { host: string; port: number };
  const pool = new UpstreamPool(target, 1_000, 4, (to) => {
    opened.push(JSON.stringify(to));
    return net.connect(to as net.NetConnectOpts);
  });
  t.after(() => pool.destroy());
  for (let i = 0; i < 3; i++) assert.equal((await send(pool, { method: 'GET', path: '/', headers: {}, body: null })).whole!.toString(), 'ok');
  assert.deepEqual(opened, [JSON.stringify(target)]);
});

test("a header value's bytes go out as they came in (node:http reads each byte as one character), with a body or without", async (t) => {
  const seen: string[] = [];
  const u = await upstream((req, res) => {
    seen.push(Buffer.from(req.headers['x-name'] as string, 'latin1').toString('hex'));
    req.resume().on('end', () => res.end());
  });
  t.after(u.close);
  // "é" as a client sends it in UTF-8 (c3 a9), as node:http gives it to a handler: two characters, one per byte
  const value = Buffer.from('café', 'utf8').toString('latin1');
  await send(u.pool, { method: 'GET', path: '/', headers: { 'x-name': value }, body: null });
  await send(u.pool, { method: 'POST', path: '/', headers: { 'x-name': value }, body: Readable.from([Buffer.from('x')]) });
  assert.deepEqual(seen, ['636166c3a9', '636166c3a9']);
});
