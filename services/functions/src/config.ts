// Functions service configuration; the only reader of process.env.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8005),
  /** wall-time limit of one invocation unless the function sets its own */
  FUNCTIONS_TIMEOUT_MS: z.coerce.number().int().min(100).max(400_000).default(30_000),
  /** isolates kept warm in this process; the least recently used is disposed beyond it */
  FUNCTIONS_MAX_ISOLATES: z.coerce.number().int().min(1).max(1000).default(32),
  /** resident memory a function's workerd process may reach before it is killed and recycled */
  FUNCTIONS_MEMORY_MB: z.coerce.number().int().min(32).max(8192).default(256),
  /** invocations per second, per project and per function, unless project settings say otherwise */
  FUNCTIONS_PROJECT_RPS: z.coerce.number().int().min(1).default(500),
  FUNCTIONS_FUNCTION_RPS: z.coerce.number().int().min(1).default(200),
  FUNCTIONS_MAX_BUNDLE_BYTES: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
