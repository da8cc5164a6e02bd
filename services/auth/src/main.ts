// Auth service entry point: the only file with side effects.
import { createLogger, serve } from '@basalt/http';
import { connectControlPlane } from '@basalt/tenancy';
import { loadConfig } from './config.js';
import { createApp } from './app.js';

const config = loadConfig();
const log = createLogger('auth', config.LOG_LEVEL);
const plane = await connectControlPlane({
  service: 'auth', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS, controlPoolMax: 4,
});
const { control, redis, registry, secrets } = plane;
// these pools serve only the auth service's own bookkeeping: every connection is basalt_admin, the auth schema's owner
const pools = plane.projectPools({ maxPerProject: config.PROJECT_POOL_MAX, role: 'basalt_admin', silenceMs: config.DATABASE_SILENCE_MS });
const { app, setDraining } = createApp({ config, control, redis, registry, pools, secrets, log });

await serve(app, { port: config.PORT, log, drainDelayMs: config.DRAIN_DELAY_MS, setDraining, onClose: plane.close });
