// Platform service entry point: the only file with side effects.
import { ensureDatabase } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { connectControlPlane } from '@basalt/tenancy';
import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { bootstrap } from './bootstrap.js';

const config = loadConfig();
const log = createLogger('platform', config.LOG_LEVEL);

await ensureDatabase(config.DATABASE_URL);
const plane = await connectControlPlane({
  service: 'platform', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, controlPoolMax: 10,
});
const { control, redis, registry, secrets } = plane;
const templateName = await bootstrap(control, secrets, config.DATABASE_URL, log);
const { app, tokens, setDraining } = createApp({ config, control, redis, registry, secrets, log, templateName });
if (config.BASALT_PLATFORM_TOKEN) await tokens.ensure(config.BASALT_PLATFORM_TOKEN, 'bootstrap');

await serve(app, { port: config.PORT, log, drainDelayMs: config.DRAIN_DELAY_MS, setDraining, onClose: plane.close });
