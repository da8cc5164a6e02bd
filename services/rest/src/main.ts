// REST service entry point: the only file with side effects.
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { createPool, ProjectPools } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { ProjectRegistry } from '@basalt/tenancy';
import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { SchemaCaches } from './domain/schema-cache.js';

const config = loadConfig();
const log = createLogger('rest', config.LOG_LEVEL);
const control = createPool(config.DATABASE_URL, { max: 2, applicationName: 'basalt-rest', onError: (err) => log.warn({ err }, 'idle control connection dropped') });
const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
subscriber.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber error'));
await subscriber.connect();

const registry = new ProjectRegistry({ control, secrets: new SecretBox(config.BASALT_MASTER_KEY), subscriber });
await registry.start();
const pools = new ProjectPools({
  maxPerProject: config.PROJECT_POOL_MAX,
  applicationName: 'basalt-rest',
  onError: (ref, err) => log.warn({ ref, err: err.message }, 'idle project connection dropped'),
});
const caches = new SchemaCaches(config.SCHEMA_CACHE_MAX, (ref, err) => log.warn({ ref, err: err.message }, 'schema cache connection failed'));
// A changed or deleted project drops its pool and its schema cache (and with it the LISTEN connection).
registry.onInvalidate((ref) => {
  pools.evict(ref);
  caches.drop(ref);
});
const { app, setDraining } = createApp({ config, registry, pools, caches, log });

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await caches.closeAll();
    await pools.closeAll();
    await control.end();
    subscriber.disconnect();
  },
});
