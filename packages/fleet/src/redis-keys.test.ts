import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { dropRedisKeys } from './redis-keys.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

test("drops every key under the run's prefix and nothing beside it", async (t) => {
  const run = `redis-keys-test-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(url);
  t.after(async () => {
    await redis.del(`${run}-other:kept`);
    redis.disconnect();
  });
  // more keys than one SCAN page, of several types, and a key whose name only starts like the prefix
  const pipeline = redis.pipeline();
  for (let i = 0; i < 2_500; i++) pipeline.set(`${run}:k:${i}`, 'v');
  pipeline.zadd(`${run}:activity`, 1, 'a').hset(`${run}:h`, 'f', 'v').set(`${run}-other:kept`, 'v');
  await pipeline.exec();
  assert.equal(await dropRedisKeys(url, `${run}:`), 2_502);
  assert.deepEqual(await redis.keys(`${run}:*`), []);
  assert.equal(await redis.get(`${run}-other:kept`), 'v');
});

test('refuses a prefix that is empty or a pattern', async () => {
  for (const prefix of ['', '*', 'basalt:*', 'a?', 'a[bc]', 'a\\']) {
    await assert.rejects(dropRedisKeys(url, prefix), /not a key prefix/, prefix);
  }
});
