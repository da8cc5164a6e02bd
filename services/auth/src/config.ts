// Auth service configuration; the only reader of process.env. Per-project behaviour lives in project settings.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8003),
  /** bcrypt cost for new password hashes (GoTrue uses 10) */
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(10),
  /** connections per project database in this process */
  PROJECT_POOL_MAX: z.coerce.number().int().min(1).default(8),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
