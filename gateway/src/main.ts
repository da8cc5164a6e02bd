// Gateway entry point: the only file with side effects. With GATEWAY_WORKERS > 1 the primary only supervises
// workers that share the listening socket (each with its own caches and upstream pools).
import cluster from 'node:cluster';
import { createLogger, createRegistry, onParentGone, serve } from '@basalt/http';
import { connectControlPlane, ProjectActivity } from '@basalt/tenancy';
import { AssetCache } from './asset-cache.js';
import { loadConfig } from './config.js';
import { createGateway } from './gateway.js';
import { RateLimiter } from '@basalt/rate-limit';
import { startMetering } from '@basalt/metering';

const config = loadConfig();
const log = createLogger('gateway', config.LOG_LEVEL);

if (config.GATEWAY_WORKERS > 1 && cluster.isPrimary) {
  let stopping = false;
  for (let i = 0; i < config.GATEWAY_WORKERS; i++) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    log.error({ pid: worker.process.pid, code }, 'gateway worker died; starting another');
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGTERM'));
  // the fleet's supervisor going away stops the workers too, as serve() stops a single process
  onParentGone(() => stop('SIGTERM'));
} else {
  await runWorker();
}

async function runWorker(): Promise<void> {
  const plane = await connectControlPlane({
    service: 'gateway', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log,
  });
  const { control, redis, registry, subscriber } = plane;
  let lastRedisWarning = 0;
  const metrics = createRegistry('gateway');
  const limiter = new RateLimiter(redis, {
    prefix: config.BASALT_REDIS_PREFIX,
    registry: metrics,
    onError: (err) => {
      if (Date.now() - lastRedisWarning > 10_000) log.warn({ err: err.message }, 'rate limiter failing open');
      lastRedisWarning = Date.now();
    },
  });
  let lastActivityWarning = 0;
  const activity = new ProjectActivity({
    redis, control, registry, redisPrefix: config.BASALT_REDIS_PREFIX,
    onError: (err, what) => {
      if (what === 'wake' || Date.now() - lastActivityWarning > 10_000) log.warn({ err: err.message, what }, 'project activity not recorded');
      lastActivityWarning = Date.now();
    },
  });
  const assets = new AssetCache({
    maxBytes: config.GATEWAY_ASSET_CACHE_BYTES, maxFileBytes: config.GATEWAY_ASSET_CACHE_MAX_FILE_BYTES, ttlMs: config.GATEWAY_ASSET_CACHE_TTL_MS,
  });
  await assets.listen(subscriber, config.BASALT_REDIS_PREFIX);
  // a changed or deleted project's kept assets go too
  registry.onInvalidate((ref) => assets.drop(ref));
  const meter = startMetering({ control, enabled: config.BASALT_METERING, intervalMs: config.METERING_FLUSH_INTERVAL_MS, log, registry: metrics });
  const gateway = createGateway({
    config, registry, limiter, redis, log, metrics, meter, activity, assets,
    ready: async () => {
      await control.query('select 1');
      await redis.ping();
    },
  });

  // the same listening and drain as every service: /ready turns 503, the load-balancer delay, in-flight finish
  await serve(gateway.handle, {
    port: config.PORT,
    log,
    drainDelayMs: config.DRAIN_DELAY_MS,
    setDraining: gateway.setDraining,
    upgrade: gateway.upgrade,
    // the common request (a GET without a body) answered without node:http's per-request work (@basalt/http front.ts)
    front: true,
    onDrain: gateway.closeTunnels,
    onClose: async () => {
      gateway.close();
      await meter.stop();
      activity.close();
      await plane.close();
    },
  });
}
