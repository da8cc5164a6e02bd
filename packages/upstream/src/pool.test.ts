// The pool's timing without a timer per exchange: idle sockets closed by its sweep, and each exchange's timeout
// in force on a reused socket whatever the exchange before it left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamPool } from './index.js';

/** a server answering /ok at once and never answering /hang; counts the connections it was opened */
async function server(t: { after: (fn: () => unknown) => void }) {
  const s = http.createServer((req, res) => {
    if (req.url !== '/hang') res.end('ok');
  });
  let opened = 0;
  let closed = 0;
  s.on('connection', (c) => {
    opened++;
    c.on('close', () => closed++);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  t.after(() => (s.closeAllConnections(), new Promise((r) => s.close(r))));
  return { port: (s.address() as AddressInfo).port, opened: () => opened, closed: () => closed };
}

/** one request on the socket; resolves at its first read */
const exchange = (socket: Socket, path: string) =>
  new Promise<string>((resolve) => {
    socket.once('data', (b: Buffer) => resolve(b.toString('latin1')));
    socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
  });

/** ms until the socket's 'timeout', or null if none within `within` ms */
const timeoutAfter = (socket: Socket, within: number) =>
  new Promise<number | null>((resolve) => {
    const started = performance.now();
    const timer = setTimeout(() => resolve(null), within);
    socket.once('timeout', () => (clearTimeout(timer), resolve(performance.now() - started)));
  });

test('a socket idle in the pool is closed within idleMs, and the next exchange opens another', async (t) => {
  const s = await server(t);
  const pool = new UpstreamPool({ host: '127.0.0.1', port: s.port }, 200);
  t.after(() => pool.destroy());
  const { socket } = pool.acquire();
  assert.match(await exchange(socket, '/ok'), /^HTTP\/1\.1 200/);
  pool.release(socket);
  assert.equal(pool.acquire().socket, socket, 'reused while fresh');
  pool.release(socket);
  await sleep(350);
  assert.equal(socket.destroyed, true, 'closed by the sweep');
  const next = pool.acquire();
  assert.equal(next.reused, false);
  assert.match(await exchange(next.socket, '/ok'), /^HTTP\/1\.1 200/);
  assert.equal(s.opened(), 2);
});

test("an exchange's timeout holds on a reused socket: after one that kept it, one that turned it off, and idle time", async (t) => {
  const s = await server(t);
  const pool = new UpstreamPool({ host: '127.0.0.1', port: s.port }, 10_000);
  t.after(() => pool.destroy());
  const first = pool.acquire(false, 150);
  assert.match(await exchange(first.socket, '/ok'), /^HTTP\/1\.1 200/);
  pool.release(first.socket);
  // the timer fires while the socket waits in the pool (no exchange owns it), and is armed again by the next request
  await sleep(250);

  const second = pool.acquire(false, 150);
  assert.equal(second.socket, first.socket);
  const hung = timeoutAfter(second.socket, 2_000);
  second.socket.write('GET /hang HTTP/1.1\r\nhost: x\r\n\r\n');
  const ms = await hung;
  assert.ok(ms !== null && ms >= 140, `timed out after ${ms} ms`);
  second.socket.destroy();

  // an exchange that turns the timeout off (a stream that may idle) and the one after it, which wants it again
  const third = pool.acquire(false, 150);
  assert.match(await exchange(third.socket, '/ok'), /^HTTP\/1\.1 200/);
  third.socket.setTimeout(0);
  pool.release(third.socket);
  const fourth = pool.acquire(false, 150);
  assert.equal(fourth.socket, third.socket);
  const again = timeoutAfter(fourth.socket, 2_000);
  fourth.socket.write('GET /hang HTTP/1.1\r\nhost: x\r\n\r\n');
  assert.notEqual(await again, null);
  fourth.socket.destroy();

  // and one that asks for none gets none
  const fifth = pool.acquire(false, 150);
  assert.match(await exchange(fifth.socket, '/ok'), /^HTTP\/1\.1 200/);
  pool.release(fifth.socket);
  const sixth = pool.acquire(false, 0);
  const none = timeoutAfter(sixth.socket, 400);
  sixth.socket.write('GET /hang HTTP/1.1\r\nhost: x\r\n\r\n');
  assert.equal(await none, null);
  sixth.socket.destroy();
});
