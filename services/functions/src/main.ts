// Functions service entry point: the only file with side effects.
import { migrateDir } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { connectControlPlane } from '@basalt/tenancy';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { Isolates } from './runtime/isolates.js';

const config = loadConfig();
const log = createLogger('functions', config.LOG_LEVEL);
const plane = await connectControlPlane({
  service: 'functions', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log,
});
await migrateDir(plane.control, 'functions', new URL('../migrations/', import.meta.url));
const isolates = new Isolates(config.FUNCTIONS_MAX_ISOLATES, config.FUNCTIONS_MEMORY_MB, [config.BASALT_PUBLIC_URL], (key, why) => {
  if (why !== 'lru') log.warn({ isolate: key, why }, 'isolate disposed');
});
const { app, setDraining } = createApp({ config, control: plane.control, redis: plane.redis, registry: plane.registry, secrets: plane.secrets, isolates, log });

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await isolates.closeAll();
    await plane.close();
  },
});
