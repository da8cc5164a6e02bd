// The one rate limiter against real Redis: windows, leased budgets (per second and longer), and the fail-open policy when
// Redis refuses connections or stops answering — decided in bounded time, counted, reported, never thrown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import client from 'prom-client';
import { RateLimiter } from './index.js';

const url = process.env.BASALT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
const prefix = `rltest:${randomBytes(4).toString('hex')}:`;
before(() => redis.connect());
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

test('a window admits its limit and refuses the rest; windows are independent', async () => {
  const limiter = new RateLimiter(redis, { prefix });
  const results = [];
  for (let i = 0; i < 5; i++) results.push(await limiter.hit([{ key: 'ip:1', limit: 3, seconds: 60 }, { key: 'email:a', limit: 10, seconds: 60 }]));
  assert.deepEqual(results, [true, true, true, false, false]);
  assert.equal(await limiter.hit([{ key: 'ip:2', limit: 3, seconds: 60 }]), true, 'another IP has its own window');
});

test('a Redis that has forgotten the script (restarted, SCRIPT FLUSH) is sent it again, and still counts', async () => {
  const limiter = new RateLimiter(redis, { prefix });
  assert.equal(await limiter.hit([{ key: 'flush', limit: 2, seconds: 60 }]), true);
  await redis.script('FLUSH');
  assert.equal(await limiter.hit([{ key: 'flush', limit: 2, seconds: 60 }]), true);
  assert.equal(await limiter.hit([{ key: 'flush', limit: 2, seconds: 60 }]), false);
});

test('two replicas leasing one per-second budget never admit more than the limit together', async () => {
  const a = new RateLimiter(redis, { prefix });
  const b = new RateLimiter(redis, { prefix });
  // start at the beginning of a second so the burst falls into one window
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
  const decisions = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).take('proj', 200)));
  assert.equal(decisions.filter(Boolean).length, 200);
});

test('a longer window is leased the same way: two replicas admit its limit together, and ask Redis a few times', async () => {
  const a = new RateLimiter(redis, { prefix });
  const b = new RateLimiter(redis, { prefix });
  let calls = 0;
  const evalsha = redis.evalsha.bind(redis);
  (redis as unknown as { evalsha: typeof evalsha }).evalsha = ((...args: Parameters<typeof evalsha>) => {
    calls++;
    return evalsha(...args);
  }) as typeof evalsha;
  try {
    const decisions = [];
    for (let i = 0; i < 500; i++) decisions.push(await (i % 2 ? a : b).take('long', 400, 3600));
    assert.equal(decisions.filter(Boolean).length, 400);
    assert.ok(calls <= 2 * 21 + 2, `${calls} Redis calls for 500 decisions`);
    // the window's count in Redis is the hour's, shared with hit() on the same key
    assert.equal(await a.hit([{ key: 'long', limit: 400, seconds: 3600 }]), false);
    // a raised limit (a plan upgraded) is asked of Redis again at once, not after the window
    assert.equal(await a.take('long', 500, 3600), true);
  } finally {
    (redis as unknown as { evalsha: typeof evalsha }).evalsha = evalsha;
  }
});

test('Redis refusing connections or hanging: fail open within the timeout, counted and reported', async () => {
  const hang = net.createServer(() => undefined).listen(0, '127.0.0.1'); // accepts, never answers
  await new Promise((r) => hang.once('listening', r));
  const dead = new Redis({ port: 1, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
  const silent = new Redis({ port: (hang.address() as net.AddressInfo).port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    for (const r of [dead, silent]) {
      const registry = new client.Registry();
      const errors: string[] = [];
      const limiter = new RateLimiter(r, { prefix, timeoutMs: 100, registry, onError: (e) => errors.push(e.message) });
      const started = Date.now();
      assert.equal(await limiter.hit([{ key: 'x', limit: 1, seconds: 1 }]), true);
      assert.equal(await limiter.take('y', 10), true);
      assert.ok(Date.now() - started < 3000, 'decided in bounded time');
      assert.ok(errors.length >= 2);
      assert.match(await registry.metrics(), /basalt_rate_limit_redis_failures_total \d/);
    }
  } finally {
    dead.disconnect();
    silent.disconnect();
    hang.close();
  }
});
