// Invalidation across replicas against real Redis: the call that changes a project resolves only once every
// replica has dropped what it held (a replica whose connection lags behind Redis's reply included), a wedged
// replica delays it by at most a second, and a replica whose subscriber reconnects drops everything, since what
// changed meanwhile went unheard.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { tcpProxy, type TcpProxy } from '@basalt/testkit';
import { ProjectRegistry } from './registry.js';

const url = new URL(process.env.BASALT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const connections: Redis[] = [];
const proxies: TcpProxy[] = [];
after(async () => {
  for (const c of connections) c.disconnect();
  await Promise.all(proxies.map((p) => p.close()));
});

/** A proxy to Redis whose answers lag `delayMs` (or stall until resumed) */
async function laggingProxy(delayMs: number) {
  const proxy = await tcpProxy({ host: url.hostname, port: Number(url.port || 6379) }, delayMs);
  proxies.push(proxy);
  return { ...proxy, url: `redis://${proxy.host}:${proxy.port}` };
}

/** A replica's registry; no project is ever loaded here (the control pool is never asked). */
async function replica(redisUrl = url.toString()) {
  const subscriber = new Redis(redisUrl, { lazyConnect: true });
  const publisher = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  subscriber.on('error', () => undefined);
  connections.push(subscriber, publisher);
  await Promise.all([subscriber.connect(), publisher.connect()]);
  const registry = new ProjectRegistry({ control: {} as pg.Pool, secrets: new SecretBox(randomBytes(32).toString('hex')), subscriber, publisher });
  await registry.start();
  const dropped: string[] = [];
  registry.onInvalidate((ref) => dropped.push(ref));
  return { registry, dropped };
}

const aRef = () => Array.from(randomBytes(20), (b) => String.fromCharCode(97 + (b % 26))).join('');

test('an invalidation resolves once every replica has dropped the project, one behind a lagging connection too', async () => {
  const lag = await laggingProxy(80);
  const [a, b, slow] = [await replica(), await replica(), await replica(lag.url)];
  for (let i = 0; i < 5; i++) {
    const ref = aRef();
    const started = performance.now();
    await a.registry.invalidate(ref);
    assert.ok(b.dropped.includes(ref), 'the other replica dropped it before the call returned');
    assert.ok(slow.dropped.includes(ref), 'the lagging replica too, 80 ms behind');
    assert.ok(performance.now() - started >= 80, 'the call waited for it');
  }
});

test('a wedged replica delays an invalidation by half a second, never blocks it', async () => {
  const lag = await laggingProxy(0);
  const [a, wedged] = [await replica(), await replica(lag.url)];
  lag.state.stalled = true;
  const ref = aRef();
  const started = performance.now();
  await a.registry.invalidate(ref);
  const took = performance.now() - started;
  assert.ok(took >= 450 && took < 2_000, `took ${Math.round(took)} ms`);
  assert.ok(!wedged.dropped.includes(ref));
  lag.resume();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(wedged.dropped.includes(ref), 'it drops the project once it hears again');
});

test('a replica whose subscriber lost its connection drops everything when it is back: what changed meanwhile went unheard', async () => {
  const lag = await laggingProxy(0);
  const [a, b] = [await replica(), await replica(lag.url)];
  lag.state.stalled = true; // it reconnects at once, but hears nothing until resumed
  lag.cut();
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(b.dropped, ['*'], 'everything dropped when the connection went');
  const ref = aRef();
  await a.registry.invalidate(ref);
  assert.ok(!b.dropped.includes(ref), 'not heard: its subscriber was down');
  lag.resume();
  for (let i = 0; i < 100 && b.dropped.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(b.dropped, ['*', '*'], 'and everything again once it is back');
  const next = aRef();
  await a.registry.invalidate(next);
  assert.ok(b.dropped.includes(next), 'heard again after the reconnection');
});
