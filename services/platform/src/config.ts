// Platform service configuration; the only reader of process.env.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8001),
  /** ensured to exist at start; `npm start` and the k8s Secret provide one */
  BASALT_PLATFORM_TOKEN: z.string().startsWith('bsp_').min(24).optional(),
  /** per-project cap on database connections (ALTER ROLE … CONNECTION LIMIT) */
  PROJECT_DB_CONNECTION_LIMIT: z.coerce.number().int().min(2).default(40),
  /** 'path' gives http://host/project/<ref>, 'subdomain' gives http://<ref>.host */
  BASALT_URL_STYLE: z.enum(['path', 'subdomain']).optional(),
  SQL_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
