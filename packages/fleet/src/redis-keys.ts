// What a fleet left in Redis under its own key prefix (queues, rate-limit windows, presence, activity): the test
// runner and the benches start fleets with a prefix of their own on a shared Redis and remove it with the fleet.
import { Redis } from 'ioredis';

/** Removes every key under `prefix` (which must be the run's own: a glob, so no `*`, `?`, `[` or `\` in it). */
export async function dropRedisKeys(url: string, prefix: string): Promise<number> {
  if (!prefix || /[*?[\\]/.test(prefix)) throw new Error(`not a key prefix of one run: ${JSON.stringify(prefix)}`);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await redis.connect();
  let dropped = 0;
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length) dropped += await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
  return dropped;
}
