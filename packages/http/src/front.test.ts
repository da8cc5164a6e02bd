import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { after, test } from 'node:test';
import { Front, type FrontOptions } from './front.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const closers: (() => void)[] = [];
after(() => closers.forEach((c) => c()));

/** answers x-by: front|node (which server read the request), the method and path, and the body's length */
const echo: Handler = (req, res) => {
  let n = 0;
  const answer = () => {
    const body = JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, bodyBytes: n });
    res.writeHead(200, ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)), 'x-by', req instanceof IncomingMessage ? 'node' : 'front']);
    res.end(body);
  };
  if (!(req instanceof IncomingMessage)) return answer();
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('end', answer);
};

async function start(handler: Handler, o: FrontOptions = {}): Promise<{ port: number; front: Front }> {
  const raw = http.createServer(handler);
  const front = new Front(raw, handler, o);
  front.server.listen(0, '127.0.0.1');
  await once(front.server, 'listening');
  closers.push(() => {
    front.closeAll();
    front.server.close();
  });
  return { port: (front.server.address() as net.AddressInfo).port, front };
}

/** a raw connection that reads answers one at a time (by content-length, or chunked to its last chunk) */
async function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let buf = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buf += d;
    waiters.splice(0).forEach((w) => w());
  });
  // a connection the server cuts while bytes are still coming (a trickled head) may end in a reset: seen as closed
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    waiters.splice(0).forEach((w) => w());
  });
  const more = () => new Promise<void>((r) => waiters.push(r));
  return {
    socket,
    send: (text: string) => socket.write(text, 'latin1'),
    get closed() {
      return closed;
    },
    async answer(): Promise<{ status: number; headers: Record<string, string>; body: string }> {
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end >= 0) {
          const lines = buf.slice(0, end).split('\r\n');
          const headers: Record<string, string> = {};
          for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
          const status = Number(lines[0]!.split(' ')[1]);
          const rest = buf.slice(end + 4);
          if (headers['content-length'] !== undefined && rest.length >= Number(headers['content-length'])) {
            const n = Number(headers['content-length']);
            buf = rest.slice(n);
            return { status, headers, body: rest.slice(0, n) };
          }
          if (headers['transfer-encoding'] === 'chunked' && rest.includes('0\r\n\r\n')) {
            let body = '';
            let at = 0;
            for (;;) {
              const size = parseInt(rest.slice(at, rest.indexOf('\r\n', at)), 16);
              at = rest.indexOf('\r\n', at) + 2;
              if (size === 0) break;
              body += rest.slice(at, at + size);
              at += size + 2;
            }
            buf = rest.slice(at + 2);
            return { status, headers, body };
          }
          if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined && closed) {
            buf = '';
            return { status, headers, body: rest };
          }
        }
        if (closed) throw new Error(`connection closed; read: ${JSON.stringify(buf)}`);
        await more();
      }
    },
  };
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: a.example\r\n${extra}\r\n`;

test('the date header is the current second\'s: made once a second, not frozen at the first answer', async () => {
  const { port } = await start(echo);
  const c = await connect(port);
  const dates: number[] = [];
  for (let i = 0; i < 2; i++) {
    if (i) await new Promise((r) => setTimeout(r, 1_100));
    c.send(get('/d'));
    const { headers } = await c.answer();
    const at = Date.parse(headers.date!);
    assert.ok(Math.abs(Date.now() - at) < 1_500, `${headers.date} is now`);
    dates.push(at);
  }
  assert.ok(dates[1]! > dates[0]!, 'an answer a second later carries a later date');
  c.socket.destroy();
});

test('a GET is answered by the front; a request with a body hands the connection to node:http, which keeps it', async () => {
  const { port } = await start(echo);
  const c = await connect(port);
  c.send(get('/one', 'Connection: keep-alive\r\n'));
  const one = await c.answer();
  assert.equal(one.headers['x-by'], 'front');
  assert.deepEqual(JSON.parse(one.body), { method: 'GET', url: '/one', host: 'a.example', bodyBytes: 0 });
  assert.ok(one.headers.date, 'a date header is added');
  c.send('POST /two HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello');
  const two = await c.answer();
  assert.equal(two.headers['x-by'], 'node');
  assert.deepEqual(JSON.parse(two.body), { method: 'POST', url: '/two', host: 'a.example', bodyBytes: 5 });
  c.send(get('/three'));
  const three = await c.answer();
  assert.equal(three.headers['x-by'], 'node', 'a connection handed over stays with node:http');
  assert.equal(JSON.parse(three.body).url, '/three');
  c.socket.destroy();
});

test('pipelined requests are answered in order, the second part of the same read handed over with its bytes', async () => {
  const { port } = await start(echo);
  const c = await connect(port);
  c.send(get('/a') + get('/b') + 'PUT /c HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\nxyz' + get('/d'));
  const answers = [await c.answer(), await c.answer(), await c.answer(), await c.answer()];
  assert.deepEqual(answers.map((a) => JSON.parse(a.body).url), ['/a', '/b', '/c', '/d']);
  assert.deepEqual(answers.map((a) => a.headers['x-by']), ['front', 'front', 'node', 'node']);
  assert.equal(JSON.parse(answers[2]!.body).bodyBytes, 3);
  c.socket.destroy();
});

test('what the front does not read itself goes to node:http, with node:http\'s answers', async () => {
  const { port } = await start(echo);
  const cases: [string, number, string][] = [
    // smuggling shapes: both framings, a repeated length: node:http refuses them as before
    ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'both framings'],
    ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'two lengths'],
    ['GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400, 'a space before the colon'],
    ['GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n', 400, 'an obs-fold line'],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n', 400, 'a control character in a value'],
    ['GET / HTTP/1.1\r\n\r\n', 400, 'no host'],
    ['GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'raw bytes past ASCII in the target'],
    [`GET / HTTP/1.1\r\nHost: a\r\nX: ${'x'.repeat(20_000)}\r\n\r\n`, 431, 'a head past the limit'],
  ];
  for (const [text, status, why] of cases) {
    const c = await connect(port);
    c.send(text);
    const a = await c.answer();
    assert.equal(a.status, status, why);
    c.socket.destroy();
  }
  // valid, but not the front's: node:http answers them
  for (const text of [
    'GET / HTTP/1.0\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n',
    'OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
  ]) {
    const c = await connect(port);
    c.send(text);
    const a = await c.answer();
    assert.equal(a.status, 200, text);
    assert.equal(a.headers['x-by'], 'node', text);
    c.socket.destroy();
  }
});

test('HEAD keeps the length and sends no body; an answer without a length is chunked; large bodies whole; bad header values throw', async () => {
  let thrown: unknown = null;
  const { port } = await start((req, res) => {
    if (req.url === '/bad') {
      try {
        res.writeHead(200, ['x-bad', 'a\u0000b']);
      } catch (e) {
        thrown = e;
      }
      res.writeHead(502, ['content-length', '0']);
      return void res.end();
    }
    if (req.method === 'HEAD') return void res.writeHead(200, ['content-length', '5']).end();
    if (req.url === '/large') {
      // past what goes out in one string with its head: bytes of every value, with a length and then chunked
      const bytes = Buffer.alloc(20_000, 0).map((_, i) => i % 256);
      return void res.writeHead(200, ['content-length', String(2 * bytes.length)]).end(Buffer.concat([bytes, bytes]));
    }
    if (req.url === '/large-chunked') {
      res.writeHead(200, ['content-type', 'text/plain']);
      res.write('é'.repeat(6_000)); // 12,000 bytes of UTF-8
      return void res.end('ü'.repeat(3_000));
    }
    res.writeHead(200, ['content-type', 'text/plain']);
    res.write('hé ');
    setTimeout(() => res.end(Buffer.from('there')), 20);
  });
  const raw = net.connect(port, '127.0.0.1');
  await once(raw, 'connect');
  raw.write('HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n');
  const [chunk] = (await once(raw, 'data')) as [Buffer];
  const text = chunk.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /content-length: 5\r\n/);
  assert.ok(text.endsWith('\r\n\r\n'), 'nothing after the head');
  raw.destroy();

  const s = await fetch(`http://127.0.0.1:${port}/stream`);
  assert.equal(s.headers.get('transfer-encoding'), 'chunked');
  assert.equal(await s.text(), 'hé there');
  const large = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/large`)).arrayBuffer());
  assert.equal(large.length, 40_000);
  assert.ok(large.every((b, i) => b === (i % 20_000) % 256), 'every byte as written');
  const largeChunked = await fetch(`http://127.0.0.1:${port}/large-chunked`);
  assert.equal(largeChunked.headers.get('transfer-encoding'), 'chunked');
  assert.equal(await largeChunked.text(), 'é'.repeat(6_000) + 'ü'.repeat(3_000));
  const bad = await fetch(`http://127.0.0.1:${port}/bad`);
  assert.equal(bad.status, 502);
  assert.ok(thrown instanceof TypeError);
});

test('a client gone mid-answer closes the answer; a slow head is cut; idle connections close, busy ones do not, and count from the end', async () => {
  let closedAnswer = false;
  let release: () => void = () => undefined;
  const { port, front } = await start((req, res) => {
    res.on('close', () => (closedAnswer = true));
    if (req.url === '/slow') {
      res.writeHead(200, ['content-length', '2']);
      release = () => res.end('ok');
      return;
    }
    if (req.url === '/quiet-end') {
      // the whole body first, then an end that writes nothing, later than the idle timeout
      res.writeHead(200, ['content-length', '2']).write('ok');
      release = () => res.end();
      return;
    }
    res.writeHead(200, ['content-length', '2']).end('ok');
  }, { headersTimeoutMs: 300, idleTimeoutMs: 400 });

  const gone = await connect(port);
  gone.send(get('/slow'));
  await new Promise((r) => setTimeout(r, 50));
  gone.socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(closedAnswer, "the answer's close event fires when its client goes");

  const trickle = await connect(port);
  trickle.send('GET / HTTP/1.1\r\nHost: a\r\n');
  const t0 = Date.now();
  const timer = setInterval(() => trickle.send('X: y\r\n'), 100); // more bytes, never the end of the head
  await new Promise<void>((r) => trickle.socket.once('close', () => r()));
  clearInterval(timer);
  assert.ok(Date.now() - t0 < 1_000, 'cut at the headers timeout, not kept alive by the trickle');

  // an answer slower than the idle timeout is not cut; the connection closes once idle that long
  const busy = await connect(port);
  busy.send(get('/slow'));
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(busy.closed, false);
  release();
  assert.equal((await busy.answer()).body, 'ok');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(busy.closed, true, 'closed after the idle timeout');

  // the idle timer that fired while a request was in flight counts again from that request's end, also when the end
  // itself writes nothing (no activity that would re-arm it)
  const quiet = await connect(port);
  quiet.send(get('/quiet-end'));
  assert.equal((await quiet.answer()).body, 'ok');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(quiet.closed, false, 'not cut while its answer is still open');
  release();
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(quiet.closed, true, 'closed once idle after the end');

  // closeIdle (the drain's reaper) closes an idle connection and leaves one with a request in flight
  const idle = await connect(port);
  idle.send(get('/'));
  await idle.answer();
  const inFlight = await connect(port);
  inFlight.send(get('/slow'));
  await new Promise((r) => setTimeout(r, 50));
  front.closeIdle();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(idle.closed, true);
  assert.equal(inFlight.closed, false);
  release();
  assert.equal((await inFlight.answer()).body, 'ok');
  inFlight.socket.destroy();
});

test('a connection handed over keeps node:http\'s headers timeout', async () => {
  // node:http checks its timeouts every connectionsCheckingInterval (30 s by default)
  const raw = http.createServer({ connectionsCheckingInterval: 100, headersTimeout: 300, requestTimeout: 300 }, echo);
  const front = new Front(raw, echo, { idleTimeoutMs: 10_000 });
  front.server.listen(0, '127.0.0.1');
  await once(front.server, 'listening');
  closers.push(() => {
    front.closeAll();
    front.server.close();
  });
  const c = await connect((front.server.address() as net.AddressInfo).port);
  // a POST's head hands the connection over; its body never comes
  c.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab');
  const t0 = Date.now();
  const a = await c.answer().catch(() => null);
  assert.ok(a === null || a.status === 408, 'refused or cut');
  assert.ok(Date.now() - t0 < 3_000, `node:http's request timeout applies (${Date.now() - t0} ms)`);
});
