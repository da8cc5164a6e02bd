// The control plane's fail-fast Redis client against a Redis that hangs (catalogue C3: paused, stopped, black-holed
// behind a stalling TCP proxy): a command fails after REDIS_COMMAND_TIMEOUT_MS instead of waiting for good, the
// client keeps its connection, and commands work again once Redis answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tcpProxy } from '@basalt/testkit';
import { connectControlPlane, REDIS_COMMAND_TIMEOUT_MS } from './control-plane.js';

test('a hung Redis fails a command within the timeout; it answers again once Redis does', async () => {
  const url = new URL(process.env.BASALT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const proxy = await tcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
  const plane = await connectControlPlane({
    service: 'control-plane-test',
    // never asked: the control pool connects on first use
    databaseUrl: process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: `redis://${proxy.host}:${proxy.port}`,
    masterKey: randomBytes(32).toString('hex'),
    log: { warn: () => undefined },
  });
  const key = `control-plane-test:${randomBytes(4).toString('hex')}`;
  try {
    await plane.redis.set(key, 'one', 'PX', 60_000);
    proxy.state.stalled = true;
    const started = performance.now();
    await assert.rejects(plane.redis.get(key), /Command timed out/);
    const took = performance.now() - started;
    assert.ok(took >= REDIS_COMMAND_TIMEOUT_MS - 50 && took < REDIS_COMMAND_TIMEOUT_MS + 1_000, `${Math.round(took)} ms`);
    proxy.resume();
    assert.equal(await plane.redis.get(key), 'one');
    await plane.redis.del(key);
  } finally {
    proxy.resume();
    await plane.close();
    await proxy.close();
  }
});
