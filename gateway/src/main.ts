// Gateway entry point: the only file with side effects. With GATEWAY_WORKERS > 1 the primary only supervises
// workers that share the listening socket (each with its own caches and upstream pools).
import cluster from 'node:cluster';
import http from 'node:http';
import { createLogger } from '@basalt/http';
import { connectControlPlane } from '@basalt/tenancy';
import { loadConfig } from './config.js';
import { createGateway } from './gateway.js';
import { agent } from './proxy.js';
import { RateLimiter } from './rate-limit.js';

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
} else {
  await runWorker();
}

async function runWorker(): Promise<void> {
  const plane = await connectControlPlane({
    service: 'gateway', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log,
  });
  const { control, redis, registry } = plane;
  let lastRedisWarning = 0;
  const limiter = new RateLimiter(redis, config.BASALT_REDIS_PREFIX, (err) => {
    if (Date.now() - lastRedisWarning > 10_000) log.warn({ err: err.message }, 'rate limiter failing open');
    lastRedisWarning = Date.now();
  });
  const gateway = createGateway({
    config, registry, limiter, redis, log,
    ready: async () => {
      await control.query('select 1');
      await redis.ping();
    },
  });

  const server = http.createServer(gateway.handle);
  server.on('upgrade', gateway.upgrade);
  server.keepAliveTimeout = 65_000;
  server.listen(config.PORT, () => log.info({ port: config.PORT, pid: process.pid }, 'listening'));

  const stop = async (signal: string) => {
    log.info({ signal }, 'draining');
    gateway.setDraining();
    await new Promise((r) => setTimeout(r, config.DRAIN_DELAY_MS));
    const closed = new Promise<void>((r) => server.close(() => r()));
    // Keep-alive connections that finish their last request after close() would otherwise hold the server open.
    const reaper = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 25_000).unref())]);
    clearInterval(reaper);
    agent.destroy();
    gateway.close();
    await plane.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
