// Memory service entry point: control plane, per-project pools, the `memory-infer` queue and its worker, HTTP.
import { createLogger, serve } from '@basalt/http';
import { startMetering } from '@basalt/metering';
import { closeWithin, createQueue, createWorker } from '@basalt/queue';
import { connectControlPlane } from '@basalt/tenancy';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { INFER_ATTEMPTS, INFER_QUEUE, inferProcessor, type InferJob } from './jobs/infer-worker.js';

const config = loadConfig();
const log = createLogger('memory', config.LOG_LEVEL);
const plane = await connectControlPlane({
  service: 'memory', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS, controlPoolMax: 10,
});
const { control, redis, registry } = plane;
const pools = plane.projectPools({ maxPerProject: config.MEMORY_PROJECT_CONNECTIONS, applicationName: 'basalt-memory', silenceMs: config.DATABASE_SILENCE_MS });

const onError = (err: Error) => log.warn({ err: err.message }, 'redis error');
const queueOptions = { redisUrl: config.REDIS_URL, prefix: config.BASALT_REDIS_PREFIX, onError };
const queue = createQueue<InferJob>(INFER_QUEUE, queueOptions);
const meter = startMetering({ control, enabled: config.BASALT_METERING, intervalMs: config.METERING_FLUSH_INTERVAL_MS, log });
const { app, setDraining, infer } = createApp({
  config, control, redis, registry, pools, log, meter,
  queue: {
    // the event id is the job id: enqueuing the same event twice is one job
    enqueue: async (ref, eventId) => void (await queue.add('infer', { ref, eventId }, { jobId: eventId, attempts: INFER_ATTEMPTS, backoff: { type: 'exponential', delay: 500 } })),
  },
});
const worker = createWorker<InferJob>(INFER_QUEUE, inferProcessor({ registry, pools, infer, log }), {
  ...queueOptions, concurrency: config.MEMORY_WORKER_CONCURRENCY, lockDuration: 120_000,
});

await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await closeWithin(worker, 20_000);
    await closeWithin(queue, 2_000);
    await pools.closeAll();
    await meter.stop();
    await plane.close();
  },
});
