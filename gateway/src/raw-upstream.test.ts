import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamPool } from '@basalt/upstream';
import { headerLines } from './proxy.js';
import { rawForward } from './raw-upstream.js';

test('a chunked request body larger than the socket buffers reaches the upstream intact', async () => {
  const { createHash } = await import('node:crypto');
  const http = await import('node:http');
  // upstream: hashes what it receives (it would answer 400 to a broken chunk framing)
  const upstream = http.createServer((req, res) => {
    const h = createHash('sha256');
    req.on('data', (c) => h.update(c));
    req.on('end', () => res.end(h.digest('hex')));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const pool = new UpstreamPool({ host: '127.0.0.1', port: (upstream.address() as { port: number }).port });
  const front = http.createServer((req, res) => rawForward(req, res, {
    pool, path: '/', headers: 'content-type: application/octet-stream\r\n', responseHeaders: [], timeoutMs: 30_000, onDone: () => undefined, onFail: (s) => res.writeHead(s).end(),
  }));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const sent = createHash('sha256');
  let left = 64;
  const body = new ReadableStream({
    pull(c) {
      if (left-- === 0) return c.close();
      const chunk = Buffer.alloc(1024 * 1024, left);
      sent.update(chunk);
      c.enqueue(chunk);
    },
  });
  try {
    const r = await fetch(`http://127.0.0.1:${(front.address() as { port: number }).port}/`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), sent.digest('hex'));
  } finally {
    pool.destroy();
    front.closeAllConnections();
    upstream.closeAllConnections();
    await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => upstream.close(r))]);
  }
});

test('an upstream that answers before the body is sent (a 413) reaches the client, and its connection stays usable', async () => {
  const http = await import('node:http');
  // upstream: refuses at once by the declared length, without reading the body (as a body-limit refusal does)
  const upstream = http.createServer((req, res) => {
    if (req.method === 'GET') return void res.end('still here');
    res.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"too large"}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const pool = new UpstreamPool({ host: '127.0.0.1', port: (upstream.address() as { port: number }).port });
  const front = http.createServer((req, res) => rawForward(req, res, {
    pool, path: req.url!, headers: `content-type: application/octet-stream\r\ncontent-length: ${req.headers['content-length'] ?? '0'}\r\n`, responseHeaders: [], timeoutMs: 30_000,
    onDone: () => undefined, onFail: (s) => res.writeHead(s).end(),
  }));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const port = (front.address() as { port: number }).port;
  const call = (method: string, body?: Buffer) => new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent, headers: body ? { 'content-length': String(body.length) } : {} }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('hung')));
    req.on('error', reject);
    req.end(body);
  });
  try {
    const refused = await call('POST', Buffer.alloc(16 * 1024 * 1024, 1));
    assert.equal(refused.status, 413);
    const next = await call('GET');
    assert.deepEqual(next, { status: 200, text: 'still here' }, 'the same keep-alive connection answers the next request');
  } finally {
    agent.destroy();
    pool.destroy();
    front.closeAllConnections();
    upstream.closeAllConnections();
    await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => upstream.close(r))]);
  }
});

test('a request with a body is not replayed when a pooled connection closes under it: the client gets a 503 at once', async () => {
  const http = await import('node:http');
  const net = await import('node:net');
  // upstream: answers a GET and keeps the connection; reads a POST whole and closes without a word
  const upstream = net.createServer((socket) => {
    let buf = '';
    socket.on('data', (c) => {
      buf += c.toString('latin1');
      if (buf.startsWith('GET') && buf.includes('\r\n\r\n')) {
        buf = '';
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      } else if (buf.startsWith('POST') && buf.endsWith('hello')) socket.destroy();
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const pool = new UpstreamPool({ host: '127.0.0.1', port: (upstream.address() as { port: number }).port });
  const front = http.createServer((req, res) => rawForward(req, res, {
    pool, path: '/', headers: req.headers['content-length'] ? `content-length: ${req.headers['content-length']}\r\n` : '', responseHeaders: [], timeoutMs: 30_000,
    onDone: () => undefined, onFail: (s) => res.writeHead(s).end(),
  }));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(front.address() as { port: number }).port}/`;
  try {
    assert.equal((await fetch(url)).status, 200);
    // the POST goes out on the pooled connection, which the upstream closes once it has read it
    const r = await fetch(url, { method: 'POST', body: 'hello', signal: AbortSignal.timeout(5_000) });
    assert.equal(r.status, 503);
  } finally {
    pool.destroy();
    front.closeAllConnections();
    await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => upstream.close(r))]);
  }
});

test('an answer marked shared is handed to keep() whole, without the marker or date; others, HEADs and larger ones are not', async () => {
  const net = await import('node:net');
  const http = await import('node:http');
  // upstream: a shared answer written in three pieces, a plain one, and a shared one larger than the limit
  const upstream = net.createServer((socket) => {
    socket.on('data', (c) => {
      const [line] = c.toString('latin1').split('\r\n');
      const [method, path] = line.split(' ');
      const shared = path !== '/plain' ? 'X-Basalt-Shared-Cache: asset\r\n' : '';
      const body = path === '/large' ? 'x'.repeat(40) : 'hello world';
      socket.write(`HTTP/1.1 200 OK\r\nEtag: "e"\r\n${shared}Date: Thu, 01 Jan 2026 00:00:00 GMT\r\nContent-Length: ${body.length}\r\n\r\n`);
      if (method === 'HEAD') return;
      socket.write(body.slice(0, 3));
      setTimeout(() => socket.write(body.slice(3, 6)), 10);
      setTimeout(() => socket.write(body.slice(6)), 20);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const pool = new UpstreamPool({ host: '127.0.0.1', port: (upstream.address() as { port: number }).port });
  const kept: { path: string; head: string[]; body: string }[] = [];
  const front = http.createServer((req, res) => rawForward(req, res, {
    pool, path: req.url!, headers: '', responseHeaders: ['x-request-id', 'ours'], timeoutMs: 30_000, keepBytes: 32,
    keep: (head, body) => kept.push({ path: req.url!, head, body: body.toString() }),
    onDone: () => undefined, onFail: (s) => res.writeHead(s).end(),
  }));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(front.address() as { port: number }).port}`;
  try {
    const r = await fetch(`${url}/shared`);
    assert.equal(await r.text(), 'hello world');
    assert.equal(r.headers.get('x-basalt-shared-cache'), null);
    assert.equal(r.headers.get('x-request-id'), 'ours');
    assert.equal((await fetch(`${url}/shared`, { method: 'HEAD' })).status, 200);
    assert.equal(await (await fetch(`${url}/plain`)).text(), 'hello world');
    assert.equal((await (await fetch(`${url}/large`)).text()).length, 40);
    assert.deepEqual(kept, [{ path: '/shared', head: ['Etag', '"e"', 'Content-Length', '11'], body: 'hello world' }]);
  } finally {
    pool.destroy();
    front.closeAllConnections();
    await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => upstream.close(r))]);
  }
});

test('an answer node:http will not send (a bad header name or value, a bad status) is a 502, and the process goes on', async () => {
  const http = await import('node:http');
  const net = await import('node:net');
  const answers = ['HTTP/1.1 200 OK\r\nbad name: x', 'HTTP/1.1 200 OK\r\nx-control: a\u0001b', 'HTTP/1.1 abc OK\r\nx-a: b', 'HTTP/1.1 200 OK\r\nx-spaced : kept'];
  let next = 0;
  const upstream = net.createServer((socket) => socket.on('data', () => socket.write(`${answers[next++]}\r\ncontent-length: 2\r\n\r\nok`, 'latin1')));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const pool = new UpstreamPool({ host: '127.0.0.1', port: (upstream.address() as { port: number }).port });
  const failed: number[] = [];
  const front = http.createServer((req, res) => rawForward(req, res, {
    pool, path: '/', headers: '', responseHeaders: [], timeoutMs: 30_000,
    onDone: () => undefined, onFail: (s) => void (failed.push(s), res.writeHead(s).end()),
  }));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(front.address() as { port: number }).port}/`;
  try {
    for (const answer of answers.slice(0, 3)) assert.equal((await fetch(url)).status, 502, answer);
    assert.deepEqual(failed, [502, 502, 502]);
    // whitespace before a colon is dropped, as a proxy must (RFC 9112, section 5.1), and the answer goes through
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-spaced'), 'kept');
    assert.equal(await r.text(), 'ok');
  } finally {
    pool.destroy();
    front.closeAllConnections();
    await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => upstream.close(r))]);
  }
});

test("a header value's bytes reach the upstream as the client sent them (UTF-8 and all), with a body or without", async () => {
  const http = await import('node:http');
  const net = await import('node:net');
  const seen: string[] = [];
  const upstream = http.createServer((req, res) => {
    seen.push(Buffer.from(req.headers['x-name'] as string, 'latin1').toString('hex'));
    req.resume().on('end', () => res.end());
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const pool = new UpstreamPool({ host: '127.0.0.1', port: (upstream.address() as { port: number }).port });
  // the gateway's own header lines (proxy.ts), from the client's head as node:http parsed it
  const front = http.createServer((req, res) => rawForward(req, res, {
    pool, path: '/', headers: headerLines(req, []), responseHeaders: [], timeoutMs: 30_000, onDone: () => undefined, onFail: (s) => res.writeHead(s).end(),
  }));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const port = (front.address() as { port: number }).port;
  // a raw client: fetch() would refuse a non-ASCII header value, a browser or curl sends its UTF-8 bytes
  const call = (head: string, body = '') => new Promise<string>((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from(body)])));
    let got = '';
    c.on('data', (d) => (got += d.toString('latin1'))).on('end', () => resolve(got.split('\r\n')[0]!)).on('error', reject);
  });
  try {
    assert.equal(await call('GET / HTTP/1.1\r\nhost: x\r\nx-name: café\r\nconnection: close\r\n\r\n'), 'HTTP/1.1 200 OK');
    assert.equal(await call('POST / HTTP/1.1\r\nhost: x\r\nx-name: café\r\ncontent-length: 2\r\nconnection: close\r\n\r\n', 'hi'), 'HTTP/1.1 200 OK');
    assert.deepEqual(seen, ['636166c3a9', '636166c3a9']);
  } finally {
    pool.destroy();
    front.closeAllConnections();
    upstream.closeAllConnections();
    await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => upstream.close(r))]);
  }
});
