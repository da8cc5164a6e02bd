// Scheduler configuration; the only reader of process.env.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8009),
  FUNCTIONS_URL: z.string().url().default('http://127.0.0.1:8005'),
  /** how often due jobs are claimed */
  CRON_TICK_MS: z.coerce.number().int().min(20).max(10_000).default(200),
  CRON_CLAIM_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  /** queue messages (batches of up to 50 runs) processed at once */
  CRON_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** connections per project database the workers may hold (also capped by the project's role limit) */
  CRON_PROJECT_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(16),
  /** jobs one project may have: each is claimed, run and kept with its history by every replica's tick */
  CRON_MAX_JOBS_PER_PROJECT: z.coerce.number().int().min(1).default(100),
  /** run history kept per job */
  CRON_RUNS_KEPT: z.coerce.number().int().min(10).default(1000),
  /** runs older than this are pruned whatever their number */
  CRON_RUNS_MAX_AGE_DAYS: z.coerce.number().min(0.001).default(30),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
