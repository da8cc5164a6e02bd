// Platform service entry point: the only file with side effects.
import { ensureDatabase } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { startMetering } from '@basalt/metering';
import { connectControlPlane, MasterKeyMismatch } from '@basalt/tenancy';
import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { bootstrap } from './bootstrap.js';
import { periodic } from './jobs/periodic.js';
import { usageSampler } from './jobs/usage-sampler.js';

const config = loadConfig();
const log = createLogger('platform', config.LOG_LEVEL);

await ensureDatabase(config.DATABASE_URL);
const plane = await connectControlPlane({
  service: 'platform', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS, controlPoolMax: 10,
});
const { control, redis, registry, secrets } = plane;
const templateName = await bootstrap(control, secrets, config.DATABASE_URL, log).catch(async (err: Error) => {
  if (!(err instanceof MasterKeyMismatch)) throw err;
  log.fatal({ database: err.database, projects: err.projects }, err.message);
  await plane.close();
  process.exit(78); // EX_CONFIG: a supervisor restarting it would only repeat this
});
const { app, tokens, plans, dbQuotas, watchdog, sleep, backups, setDraining } = createApp({ config, control, redis, registry, secrets, log, templateName });
if (config.BASALT_PLATFORM_TOKEN) await tokens.ensure(config.BASALT_PLATFORM_TOKEN, 'bootstrap');
await plans.applyConfigured(config.BASALT_PLANS).then(
  (applied) => applied.length && log.info({ plans: applied }, 'plans from configuration applied'),
  async (err: Error) => {
    log.fatal({ err: err.message }, 'plan configuration cannot work');
    await plane.close();
    process.exit(78);
  },
);
// each project's database reconciled with its plan (db-quotas.ts): read-only while over db_bytes, connection limit
// and statement timeout as the plan says
const quotaCheck = periodic('database quota check', config.QUOTA_CHECK_INTERVAL_MS, dbQuotas.checkAll, log,
  (refs) => refs.length && log.info({ refs }, 'database quotas applied'));
// statements run past their plan's statement_timeout_ms whatever the session set (statement-watchdog.ts)
const statementCheck = periodic('statement watchdog pass', config.STATEMENT_WATCHDOG_INTERVAL_MS, watchdog.pass, log);
// projects idle past their limit go to sleep (sleep.ts)
const sleeper = periodic('sleeper pass', config.PROJECT_SLEEP_CHECK_S * 1000, () => sleep.sleepIdle(), log,
  (refs) => refs.length && log.info({ refs }, 'idle projects put to sleep'));
backups.start();
// metering's sampled levels (database size, stored bytes); the counters come from the other services
const meter = startMetering({ control, enabled: config.BASALT_METERING, intervalMs: config.METERING_FLUSH_INTERVAL_MS, log });
const sampler = usageSampler({ control, redis, redisPrefix: config.BASALT_REDIS_PREFIX, registry, secrets, meter, log });
if (meter.enabled) sampler.start(config.METERING_SAMPLE_INTERVAL_MS);

await serve(app, {
  port: config.PORT, log, drainDelayMs: config.DRAIN_DELAY_MS, setDraining,
  onClose: async () => {
    quotaCheck.stop();
    statementCheck.stop();
    sleeper.stop();
    await watchdog.close();
    await backups.stop(); // running backups and restores record the interruption before the pools close
    await sampler.stop();
    await meter.stop();
    await plane.close();
  },
});
