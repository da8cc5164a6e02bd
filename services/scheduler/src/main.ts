// Scheduler entry point: the admin API, the claim loop and the `cron-runs` workers in one process.
import { migrateDir, startHistoryPruner } from '@basalt/db';
import { createLogger, serve } from '@basalt/http';
import { closeWithin, createQueue, createWorker } from '@basalt/queue';
import { connectControlPlane, ProjectActivity } from '@basalt/tenancy';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { runProcessor } from './jobs/execute.js';
import { settleStrandedRuns } from './jobs/settle.js';
import { startTicking, type RunMessage } from './jobs/tick.js';

const config = loadConfig();
const log = createLogger('scheduler', config.LOG_LEVEL);
const onError = (err: Error) => log.warn({ err: err.message }, 'redis error');
const plane = await connectControlPlane({
  service: 'scheduler', databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL, masterKey: config.BASALT_MASTER_KEY, log, silenceMs: config.DATABASE_SILENCE_MS, controlPoolMax: 20,
});
const { control, redis, registry } = plane;
await migrateDir(control, 'scheduler', new URL('../migrations/', import.meta.url));
// watched for silence: a project's database that stops answering fails its runs (each trip is bounded by its runs'
// timeouts and a grace), instead of holding a worker slot, and with eight such every project's cron, for good
const pools = plane.projectPools({ maxPerProject: config.CRON_PROJECT_CONNECTIONS, silenceMs: config.DATABASE_SILENCE_MS });
const activity = new ProjectActivity({
  redis, control, registry, redisPrefix: config.BASALT_REDIS_PREFIX,
  onError: (err, what) => log.warn({ err: err.message, what }, 'cron activity not recorded'),
});

const queueOptions = { redisUrl: config.REDIS_URL, prefix: config.BASALT_REDIS_PREFIX, onError };
const queue = createQueue<RunMessage>('cron-runs', queueOptions);
const worker = createWorker<RunMessage>(
  'cron-runs',
  runProcessor({ control, registry, pools, functionsUrl: config.FUNCTIONS_URL, log, parallel: config.CRON_PROJECT_CONNECTIONS, activity }),
  { ...queueOptions, concurrency: config.CRON_WORKER_CONCURRENCY, lockDuration: 60_000 },
);
const pruner = startHistoryPruner(control, [{
  table: 'platform.cron_runs', per: 'job_id', time: 'created_at', key: 'id', keep: config.CRON_RUNS_KEPT, maxAgeMs: config.CRON_RUNS_MAX_AGE_DAYS * 86_400_000,
}], { intervalMs: config.HISTORY_PRUNE_INTERVAL_MS, onError: (err, table) => log.warn({ err, table }, 'history pruning failed') });
const ticker = startTicking({
  control, queue, log, tickMs: config.CRON_TICK_MS, batch: config.CRON_CLAIM_BATCH,
  settle: (olderThanMs, graceMs) => settleStrandedRuns({ control, registry, pools, log }, olderThanMs, graceMs),
});

const { app, setDraining } = createApp({ control, redis, registry, log, maxJobsPerProject: config.CRON_MAX_JOBS_PER_PROJECT });
await serve(app, {
  port: config.PORT,
  log,
  drainDelayMs: config.DRAIN_DELAY_MS,
  setDraining,
  onClose: async () => {
    await ticker.stop();
    activity.close();
    await pruner.stop();
    await closeWithin(worker, 20_000);
    await closeWithin(queue, 2_000);
    await plane.close();
  },
});
