// Auth service configuration; the only reader of process.env. Per-project behaviour lives in project settings.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8003),
  /** bcrypt cost for new password hashes (GoTrue uses 10) */
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(10),
  /**
   * Connections per project database in this process. Auth's statements are short (a refresh is one ~0.3 ms
   * statement), so four keep a project's Postgres busy; more only add backends contending for the same cores:
   * on two cores, eight cost ~25% more Postgres CPU per refresh than four, for fewer refreshes/s (bench/auth).
   */
  PROJECT_POOL_MAX: z.coerce.number().int().min(1).default(4),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
