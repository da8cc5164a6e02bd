// The model-call HTTP/1.1 client against a local server on 127.0.0.77 (allowed) and the policy's refusal of
// 127.0.0.1: bodies framed by length, chunks or the connection's end, keep-alive reuse, a pooled socket the
// server closed, timeouts, aborts and backpressure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { EgressError, egressPolicy } from '@basalt/egress';
import { http1Client } from './http1.js';

let server: http.Server;
let origin: string;
const sockets = new Set<net.Socket>();
const send = http1Client(egressPolicy('127.0.0.77'));

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '';
      if (path === '/echo') return res.writeHead(200, { 'content-type': 'application/json', 'x-twice': ['a', 'b'] }).end(JSON.stringify({ body, headers: req.headers }));
      if (path === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: 1\n\n');
        return setTimeout(() => res.end('data: 2\n\n'), 20);
      }
      if (path === '/close') {
        res.writeHead(200, { connection: 'close' });
        res.write('until ');
        return res.end('the end');
      }
      if (path === '/big') return res.end('x'.repeat(4 * 1024 * 1024));
      if (path === '/hang') return; // never answers
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.77', r));
  origin = `http://127.0.0.77:${(server.address() as AddressInfo).port}`;
});
after(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

const call = (path: string, o: { signal?: AbortSignal; timeoutMs?: number; url?: string } = {}) =>
  send({ url: new URL(o.url ?? `${origin}${path}`), headers: { 'content-type': 'application/json', 'x-request-id': 'r1' }, body: Buffer.from('{"a":1}'), signal: o.signal ?? new AbortController().signal, timeoutMs: o.timeoutMs ?? 5_000 });

test('a length-framed answer, its headers and the request as sent; the connection is reused', async () => {
  const first = await call('/echo');
  assert.equal(first.status, 200);
  assert.equal(first.header('Content-Type'), 'application/json');
  assert.equal(first.header('x-twice'), 'a, b');
  const seen = JSON.parse(await first.body.text());
  assert.equal(seen.body, '{"a":1}');
  assert.equal(seen.headers['x-request-id'], 'r1');
  assert.equal(seen.headers.host, new URL(origin).host);
  const open = sockets.size;
  await (await call('/echo')).body.text();
  assert.equal(sockets.size, open, 'the second call went over the pooled connection');
});

test('a chunked stream is read as it arrives; a body framed by the connection closing ends with it', async () => {
  const res = await call('/stream');
  const parts: string[] = [];
  for await (const c of res.body) parts.push(Buffer.from(c).toString());
  assert.equal(parts.join(''), 'data: 1\n\ndata: 2\n\n');
  assert.equal(await (await call('/close')).body.text(), 'until the end');
});

test('a pooled connection the server closed meanwhile is replaced, not reported', async () => {
  await (await call('/echo')).body.text();
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await call('/echo')).status, 200);
});

test('a large body read slowly arrives whole (the socket paused and resumed)', async () => {
  const res = await call('/big');
  let n = 0;
  for await (const c of res.body) {
    n += c.length;
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(n, 4 * 1024 * 1024);
});

test('no answer within the timeout, or an abort, fails the call', async () => {
  await assert.rejects(call('/hang', { timeoutMs: 100 }), /timed out/);
  const abort = new AbortController();
  setTimeout(() => abort.abort(new Error('client gone')), 50);
  await assert.rejects(call('/hang', { signal: abort.signal }), /client gone/);
});

test('the egress policy refuses before connecting', async () => {
  await assert.rejects(call('', { url: 'http://127.0.0.1:9/x' }), EgressError);
  await assert.rejects(call('', { url: 'file:///etc/passwd' }), EgressError);
});
