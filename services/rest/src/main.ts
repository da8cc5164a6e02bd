// REST service entry point: the only file with side effects.
import { createLogger, serve } from '@basalt/http';
import { connectControlPlane } from '@basalt/tenancy';
import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { SchemaCaches } from './domain/schema-cache.js';
import { ReadReplicas } from './domain/read-replicas.js';

const config = loadConfig();
const log = createLogger('rest', config.LOG_LEVEL);
const plane = await connectControlPlane({
  service: 'rest', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS, controlPoolMax: 2,
});
const { registry } = plane;
const pools = plane.projectPools({ maxPerProject: config.PROJECT_POOL_MAX });
const replicas = new ReadReplicas(plane.projectPools({ maxPerProject: config.PROJECT_POOL_MAX, applicationName: 'basalt-rest-replica' }), config.REST_READ_YOUR_WRITES_MS, {
  redis: plane.redis, prefix: config.BASALT_REDIS_PREFIX,
});
const caches = new SchemaCaches(config.SCHEMA_CACHE_MAX, (ref, err) => log.warn({ ref, err: err.message }, 'schema cache connection failed'));
// A changed or deleted project drops its schema cache (and with it the LISTEN connection); the control plane
// drops its pool.
registry.onInvalidate((ref) => caches.drop(ref));
const { app, setDraining } = createApp({ config, registry, pools, caches, replicas, log, ready: plane.ready });

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await caches.closeAll();
    await plane.close();
  },
});
