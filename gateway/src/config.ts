// Gateway configuration; the only reader of process.env.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const url = (port: number) => z.string().url().default(`http://127.0.0.1:${port}`);

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8000),
  PLATFORM_URL: url(8001),
  REST_URL: url(8002),
  AUTH_URL: url(8003),
  STORAGE_URL: url(8004),
  FUNCTIONS_URL: url(8005),
  AI_GATEWAY_URL: url(8006),
  MEMORY_URL: url(8007),
  REALTIME_URL: url(8008),
  SCHEDULER_URL: url(8009),
  DOCUMENTS_URL: url(8010),
  /** requests per second per project unless the project's settings say otherwise */
  RATE_LIMIT_RPS: z.coerce.number().int().min(1).default(5_000),
  /** time to wait for an upstream's response headers, then its longest silence; functions and models get longer (routes.ts) */
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).default(150_000),
  /** worker processes sharing the port (node:cluster); one per core is the usual choice on a dedicated box */
  GATEWAY_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** bearer token a Prometheus scraper presents for the gateway's /metrics; empty: /metrics is not served */
  BASALT_METRICS_TOKEN: z.string().default(''),
  /** published assets kept in memory per gateway process, all together (bytes; 0 turns the asset cache off), and the largest one kept */
  GATEWAY_ASSET_CACHE_BYTES: z.coerce.number().int().min(0).default(16 * 1024 * 1024),
  GATEWAY_ASSET_CACHE_MAX_FILE_BYTES: z.coerce.number().int().min(0).default(128 * 1024),
  /** how long a kept asset is trusted should a change message be lost (ms) */
  GATEWAY_ASSET_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5_000),
  /** a JSON log line per request; off by default, as it costs a write per request on the hot path */
  ACCESS_LOG: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
