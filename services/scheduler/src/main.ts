// Scheduler entry point: the admin API, the claim loop and the `cron-runs` workers in one process.
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { createPool, migrate, ProjectPools, readMigrations } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { closeWithin, createQueue, createWorker } from '@basalt/queue';
import { ProjectRegistry } from '@basalt/tenancy';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { runProcessor } from './jobs/execute.js';
import { startTicking, type RunMessage } from './jobs/tick.js';

const config = loadConfig();
const log = createLogger('scheduler', config.LOG_LEVEL);
const onError = (err: Error) => log.warn({ err: err.message }, 'redis error');
const control = createPool(config.DATABASE_URL, { max: 20, applicationName: 'basalt-scheduler', onError: (err) => log.warn({ err }, 'idle control connection dropped') });
const migrations = await readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url)));
const client = await control.connect();
try {
  await migrate(client, 'scheduler', migrations);
} finally {
  client.release();
}

const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
redis.on('error', onError);
subscriber.on('error', onError);
await Promise.all([redis.connect(), subscriber.connect()]);
const registry = new ProjectRegistry({ control, secrets: new SecretBox(config.BASALT_MASTER_KEY), subscriber, publisher: redis });
await registry.start();
const pools = new ProjectPools({ maxPerProject: config.CRON_PROJECT_CONNECTIONS, applicationName: 'basalt-cron', onError: (ref, err) => log.warn({ ref, err: err.message }, 'idle project connection dropped') });
registry.onInvalidate((ref) => pools.evict(ref));

const queueOptions = { redisUrl: config.REDIS_URL, prefix: config.BASALT_REDIS_PREFIX, onError };
const queue = createQueue<RunMessage>('cron-runs', queueOptions);
const worker = createWorker<RunMessage>(
  'cron-runs',
  runProcessor({ control, registry, pools, functionsUrl: config.FUNCTIONS_URL, log, parallel: config.CRON_PROJECT_CONNECTIONS }),
  { ...queueOptions, concurrency: config.CRON_WORKER_CONCURRENCY, lockDuration: 60_000 },
);
const ticker = startTicking({ control, queue, log, tickMs: config.CRON_TICK_MS, batch: config.CRON_CLAIM_BATCH });

const { app, setDraining } = createApp({ control, redis, registry, log });
await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await ticker.stop();
    await closeWithin(worker, 20_000);
    await closeWithin(queue, 2_000);
    await pools.closeAll();
    await control.end();
    redis.disconnect();
    subscriber.disconnect();
  },
});
