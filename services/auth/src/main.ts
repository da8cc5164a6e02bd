// Auth service entry point: the only file with side effects.
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { createPool, ProjectPools } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { ProjectRegistry } from '@basalt/tenancy';
import { loadConfig } from './config.js';
import { createApp } from './app.js';

const config = loadConfig();
const log = createLogger('auth', config.LOG_LEVEL);
const control = createPool(config.DATABASE_URL, { max: 4, applicationName: 'basalt-auth', onError: (err) => log.warn({ err }, 'idle control connection dropped') });
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: true });
const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
subscriber.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber error'));
await Promise.all([redis.connect(), subscriber.connect()]);

const secrets = new SecretBox(config.BASALT_MASTER_KEY);
const registry = new ProjectRegistry({ control, secrets, subscriber });
await registry.start();
const pools = new ProjectPools({
  maxPerProject: config.PROJECT_POOL_MAX,
  applicationName: 'basalt-auth',
  onError: (ref, err) => log.warn({ ref, err: err.message }, 'idle project connection dropped'),
});
const { app, setDraining } = createApp({ config, control, redis, registry, pools, secrets, log });

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await pools.closeAll();
    await control.end();
    redis.disconnect();
    subscriber.disconnect();
  },
});
