// Functions service entry point: the only file with side effects.
import { migrateDir, startHistoryPruner } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { startMetering } from '@basalt/metering';
import { connectControlPlane } from '@basalt/tenancy';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { Runtimes } from './runtime/runtimes.js';
import { ActiveCache } from './domain/active-cache.js';
import { functionsDb } from './db/functions.js';

const config = loadConfig();
const log = createLogger('functions', config.LOG_LEVEL);
const plane = await connectControlPlane({
  service: 'functions', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS,
});
await migrateDir(plane.control, 'functions', new URL('../migrations/', import.meta.url));
const runtimes = new Runtimes({
  processes: config.FUNCTIONS_PROCESSES,
  maxIsolates: config.FUNCTIONS_MAX_ISOLATES,
  memoryMb: config.FUNCTIONS_MEMORY_MB,
  cpuMs: config.FUNCTIONS_CPU_MS,
  subrequests: config.FUNCTIONS_MAX_SUBREQUESTS,
  subrequestBytes: config.FUNCTIONS_MAX_REQUEST_BYTES,
  egress: { allowOrigins: [config.BASALT_PUBLIC_URL], allowList: config.BASALT_EGRESS_ALLOW },
  onEvent: (event, detail) => (event === 'workerd started' ? log.info(detail, event) : log.warn(detail, event)),
});
await runtimes.start();
const db = functionsDb(plane.control);
const active = new ActiveCache(db, plane.redis, config.BASALT_REDIS_PREFIX);
await active.listen(plane.subscriber);
// a sleeping project's isolates and probation process go; what is left of them is reported (none, normally)
plane.onSleep((ref) => ({ ...runtimes.release(ref), fn_isolates_left: runtimes.isolatesOf(ref) }));
const meter = startMetering({ control: plane.control, enabled: config.BASALT_METERING, intervalMs: config.METERING_FLUSH_INTERVAL_MS, log });
const { app, setDraining } = createApp({ config, control: plane.control, redis: plane.redis, registry: plane.registry, secrets: plane.secrets, runtimes, active, db, log, meter });

const pruner = startHistoryPruner(plane.control, [{
  table: 'platform.function_invocations', per: 'ref', time: 'created_at', key: 'id', keep: config.FUNCTIONS_LOGS_KEPT, maxAgeMs: config.FUNCTIONS_LOGS_MAX_AGE_DAYS * 86_400_000,
}], { intervalMs: config.HISTORY_PRUNE_INTERVAL_MS, onError: (err, table) => log.warn({ err, table }, 'history pruning failed') });

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await pruner.stop();
    await runtimes.close();
    await db.flushInvocations();
    await meter.stop();
    await plane.close();
  },
});
