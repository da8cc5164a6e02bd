// AI gateway entry point: connects to the control plane, migrates its tables, starts the usage writer and the
// config-change subscription, and serves the model and management APIs.
import { Redis } from 'ioredis';
import { migrateDir } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { startMetering } from '@basalt/metering';
import { connectControlPlane } from '@basalt/tenancy';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { keysDb } from './db/keys.js';
import { usageDb } from './db/usage.js';
import { loadTokenizer } from './domain/tokenizer.js';
import { meterAiUsage } from './domain/usage-meter.js';
import { startUsageWriter } from './jobs/usage-writer.js';

const config = loadConfig();
const log = createLogger('ai-gateway', config.LOG_LEVEL);
const plane = await connectControlPlane({
  service: 'ai-gateway', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS, controlPoolMax: 10,
});
const { control, redis, registry, secrets } = plane;
await migrateDir(control, 'ai-gateway', new URL('../migrations/', import.meta.url));

// before listening: loading the BPE table blocks the event loop for a second or two
if (config.AI_TOKENIZER === 'cl100k') await loadTokenizer();

const writer = startUsageWriter(usageDb(control), keysDb(control), {
  batch: config.AI_USAGE_BATCH, flushMs: config.AI_USAGE_FLUSH_MS, maxPending: config.AI_USAGE_MAX_PENDING,
  onError: (err, rows) => log.warn({ err: err.message, rows }, 'usage rows not written yet; retrying'),
});

// AI config changes (providers, routes, keys) reach every replica at once; the cache TTL bounds a missed message.
const channel = `${config.BASALT_REDIS_PREFIX}ai-config`;
const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
subscriber.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber error'));
await subscriber.connect();
await subscriber.subscribe(channel);

// every usage record also counts towards the project's metered usage (tokens and cost per hour)
const meter = startMetering({ control, enabled: config.BASALT_METERING, intervalMs: config.METERING_FLUSH_INTERVAL_MS, log });
const usage = {
  push: (r: Parameters<typeof writer.push>[0]) => {
    writer.push(r);
    meterAiUsage(meter, r);
  },
};

const { app, setDraining, aiConfig } = createApp({
  config, control, redis, registry, secrets, log, usage,
  publish: (ref) => void redis.publish(channel, ref).catch((err: Error) => log.warn({ err: err.message }, 'ai config change not published')),
});
subscriber.on('message', (ch: string, ref: string) => {
  if (ch === channel) aiConfig.drop(ref);
});
registry.onInvalidate((ref) => (ref === '*' ? undefined : aiConfig.drop(ref)));

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await writer.stop();
    await meter.stop();
    subscriber.disconnect();
    await plane.close();
  },
});
