// Functions service configuration; the only reader of process.env.
import { commonConfig, FUNCTION_TIMEOUT_MAX_MS, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8005),
  /** wall-time limit of one invocation unless the function sets its own */
  FUNCTIONS_TIMEOUT_MS: z.coerce.number().int().min(100).max(FUNCTION_TIMEOUT_MAX_MS).default(30_000),
  /** workerd processes the projects are spread over (a quarantine process for suspects comes on top) */
  FUNCTIONS_PROCESSES: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * isolates (function versions) one workerd process loads before a fresh process replaces it: bounds memory, about
   * 1.2 MB per small isolate (1,000 versions over 2 processes: 1.7 GB). Fewer thrash: at 200, 1,000 versions called
   * round-robin kept reloading (p99 100 ms); at 600 every one stays loaded (p99 39 ms).
   */
  FUNCTIONS_MAX_ISOLATES: z.coerce.number().int().min(1).max(5000).default(600),
  /** working memory of a workerd process beyond its isolates' code; past it the process is killed (546) */
  FUNCTIONS_MEMORY_MB: z.coerce.number().int().min(32).max(8192).default(256),
  /** CPU time a function may spend without yielding its process's thread (module init or one request) before it is killed (546) */
  FUNCTIONS_CPU_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  /** outbound requests (fetch) per invocation */
  FUNCTIONS_MAX_SUBREQUESTS: z.coerce.number().int().min(1).max(100_000).default(50),
  /** invocation request and response bodies */
  FUNCTIONS_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
  FUNCTIONS_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).default(100 * 1024 * 1024),
  /** invocations of one project running at the same time; more are a 429 */
  FUNCTIONS_PROJECT_CONCURRENCY: z.coerce.number().int().min(1).default(100),
  /** invocations per second, per project and per function, unless project settings say otherwise */
  FUNCTIONS_PROJECT_RPS: z.coerce.number().int().min(1).default(500),
  FUNCTIONS_FUNCTION_RPS: z.coerce.number().int().min(1).default(200),
  /** invocation log rows kept per project, and the age past which they go */
  FUNCTIONS_LOGS_KEPT: z.coerce.number().int().min(10).default(10_000),
  FUNCTIONS_LOGS_MAX_AGE_DAYS: z.coerce.number().min(0.001).default(7),
  FUNCTIONS_MAX_BUNDLE_BYTES: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
