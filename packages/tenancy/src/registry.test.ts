// Invalidation across replicas against real Redis: the call that changes a project resolves only once every
// replica has dropped what it held (a replica whose connection lags behind Redis's reply included), a wedged
// replica delays it by at most a second, and a replica whose subscriber reconnects drops everything, since what
// changed meanwhile went unheard. A Redis that stops answering with its connections open is noticed by PING, and a
// change it does not take is answered once every replica has noticed (or is a 503 while this one still hears it).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { tcpProxy, type TcpProxy } from '@basalt/testkit';
import { REDIS_COMMAND_TIMEOUT_MS } from './control-plane.js';
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
async function replica(redisUrl = url.toString(), publisherUrl = url.toString()) {
  const subscriber = new Redis(redisUrl, { lazyConnect: true });
  // as connectControlPlane makes it
  const publisher = new Redis(publisherUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: REDIS_COMMAND_TIMEOUT_MS });
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

test('a replica whose Redis stops answering, connection open, drops everything within 2.5 s, and again when it answers', async () => {
  const frozen = await laggingProxy(0);
  const [a, b] = [await replica(), await replica(frozen.url)];
  // what b hears of other projects (the fleet's, from other test files on this Redis) is not counted
  const everything = () => b.dropped.filter((x) => x === '*').length;
  frozen.state.stalled = true;
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(everything(), 0, 'a second of silence is not yet deafness');
  for (let i = 0; i < 60 && everything() < 1; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(everything(), 1, 'counted deaf: what changes meanwhile is unheard, so nothing is kept');
  const ref = aRef();
  await a.registry.invalidate(ref);
  assert.ok(!b.dropped.includes(ref));
  frozen.resume();
  for (let i = 0; i < 60 && everything() < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(everything(), 2, 'everything again once it answers');
});

test('a change Redis does not take is answered once every replica has noticed; while this replica still hears Redis, a 503', async () => {
  const frozen = await laggingProxy(0);
  // a Redis that stops answering everyone: the announcing replica's publisher and both subscribers
  const [a, b] = [await replica(frozen.url, frozen.url), await replica(frozen.url)];
  frozen.state.stalled = true;
  const started = performance.now();
  await a.registry.invalidate(aRef());
  const took = performance.now() - started;
  assert.ok(took >= 4_000 && took < 12_000, `took ${Math.round(took)} ms`);
  assert.deepEqual(b.dropped.filter((x) => x === '*'), ['*'], 'the other replica stopped trusting what it held before the call returned');
  frozen.resume();

  // only the publisher's way to Redis is stuck: the others may still hear Redis and keep the old state
  const stuck = await laggingProxy(0);
  const c = await replica(url.toString(), stuck.url);
  stuck.state.stalled = true;
  await assert.rejects(c.registry.invalidate(aRef()), (e: { status?: number; code?: string; headers?: Record<string, string> }) =>
    e.status === 503 && e.code === 'change_not_announced' && e.headers?.['retry-after'] === '2');
  stuck.resume();
});
