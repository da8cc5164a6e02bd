// Realtime entry point: control plane, a Redis subscriber for fan-out, per-project pools, then the app with
// its WebSocket endpoint. On shutdown sockets are closed (clients reconnect to another replica) and this
// replica's capture claims are released.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger, serve } from '@basalt/http';
import { startMetering } from '@basalt/metering';
import { connectControlPlane } from '@basalt/tenancy';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const log = createLogger('realtime', config.LOG_LEVEL);
const plane = await connectControlPlane({
  service: 'realtime', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS,
});
const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
subscriber.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber error'));
await subscriber.connect();

const meter = startMetering({ control: plane.control, enabled: config.BASALT_METERING, intervalMs: config.METERING_FLUSH_INTERVAL_MS, log });
const app = createApp({
  config, log, control: plane.control, redis: plane.redis, subscriber, registry: plane.registry, meter,
  // watched for silence: a join's RLS check, a replay or a change lookup waiting on a database that stopped
  // answering fails after DATABASE_SILENCE_MS (capture and LISTEN keep clients of their own, outside these pools)
  pools: plane.projectPools({ maxPerProject: config.REALTIME_DB_POOL_PER_PROJECT, silenceMs: config.DATABASE_SILENCE_MS }),
  replicaId: config.REALTIME_REPLICA_ID ?? randomUUID(),
});
await app.start();
plane.onSleep(app.releaseProject);

await serve(app.app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining: app.setDraining,
  // every socket told 1001 "going away" at once (clients reconnect elsewhere), not after the in-flight wait
  onDrain: app.closeSockets,
  onClose: async () => {
    await app.close();
    await meter.stop();
    subscriber.disconnect();
    await plane.close();
  },
});
