// Storage service entry point: the only file with side effects.
import { SecretBox } from '@basalt/crypto';
import { migrateDir } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { connectControlPlane } from '@basalt/tenancy';
import { createApp } from './app.js';
import { createBackend } from './backend/index.js';
import { loadConfig } from './config.js';
import { assetCaches as makeAssetCaches } from './domain/asset-caches.js';
import { orphanSweeper } from './domain/sweeper.js';

const config = loadConfig();
const log = createLogger('storage', config.LOG_LEVEL);
const plane = await connectControlPlane({
  service: 'storage', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS,
});
await migrateDir(plane.control, 'storage', new URL('../migrations/', import.meta.url));
const backend = await createBackend(config);
const pools = plane.projectPools({ maxPerProject: 5, silenceMs: config.DATABASE_SILENCE_MS });
const assetCaches = makeAssetCaches(config, plane.redis);
await assetCaches.paths.listen(plane.subscriber);
// a changed or deleted project's resolved paths go too (its site may be gone)
plane.registry.onInvalidate((ref) => assetCaches.paths.drop(ref));

// A deleted project's bytes go with it: every replica hears the invalidation; removal is idempotent.
plane.registry.onInvalidate((ref) => {
  if (ref === '*') return;
  plane.registry.exists(ref).then(async (exists) => {
    if (exists) return;
    await backend.removePrefix(ref);
    log.info({ ref }, 'removed the stored files of a deleted project');
  }).catch((err: Error) => log.warn({ ref, err: err.message }, 'could not remove the files of a deleted project'));
});

const sweeper = orphanSweeper({
  backend, control: plane.control, registry: plane.registry, pools, redis: plane.redis, redisPrefix: config.BASALT_REDIS_PREFIX,
  log, minAgeMs: config.STORAGE_ORPHAN_MIN_AGE_MS,
});
sweeper.start(config.STORAGE_SWEEP_INTERVAL_MS);

const secrets = new SecretBox(config.BASALT_MASTER_KEY);
const { app, setDraining } = createApp({ config, control: plane.control, redis: plane.redis, registry: plane.registry, pools, backend, log, secrets, assetCaches });
log.info({ backend: backend.kind }, 'storage backend');

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await sweeper.stop();
    await plane.close();
  },
});
