// Platform service entry point: the only file with side effects.
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { createPool, ensureDatabase } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { ProjectRegistry } from '@basalt/tenancy';
import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { bootstrap } from './bootstrap.js';

const config = loadConfig();
const log = createLogger('platform', config.LOG_LEVEL);
const secrets = new SecretBox(config.BASALT_MASTER_KEY);

await ensureDatabase(config.DATABASE_URL);
const control = createPool(config.DATABASE_URL, { max: 10, applicationName: 'basalt-platform', onError: (err) => log.warn({ err }, 'idle control connection dropped') });
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: true });
const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
subscriber.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber error'));
await Promise.all([redis.connect(), subscriber.connect()]);

const templateName = await bootstrap(control, secrets, config.DATABASE_URL, log);
const registry = new ProjectRegistry({ control, secrets, subscriber, publisher: redis });
await registry.start();
const { app, tokens, setDraining } = createApp({ config, control, redis, registry, secrets, log, templateName });
if (config.BASALT_PLATFORM_TOKEN) await tokens.ensure(config.BASALT_PLATFORM_TOKEN, 'bootstrap');

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await control.end();
    redis.disconnect();
    subscriber.disconnect();
  },
});
