// REST service configuration; the only reader of process.env. Limits here are what keeps one request cheap.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8002),
  /** connections per project database in this process */
  PROJECT_POOL_MAX: z.coerce.number().int().min(1).default(10),
  /** after a session's write, the longest its reads stay on the primary while the replica catches up */
  REST_READ_YOUR_WRITES_MS: z.coerce.number().int().min(0).default(60_000),
  /** projects whose schema cache (and LISTEN connection) this process keeps */
  SCHEMA_CACHE_MAX: z.coerce.number().int().min(1).default(50),
  /** PostgREST's db-max-rows: a read never returns more rows than this */
  REST_MAX_ROWS: z.coerce.number().int().min(1).default(1000),
  /** deepest allowed chain of embedded resources */
  REST_MAX_EMBED_DEPTH: z.coerce.number().int().min(1).default(4),
  /** most filter conditions (including logic-tree members) one request may carry */
  REST_MAX_FILTERS: z.coerce.number().int().min(1).default(100),
  /** statement_timeout per role, in ms */
  REST_TIMEOUT_ANON_MS: z.coerce.number().int().min(1).default(3_000),
  REST_TIMEOUT_AUTHENTICATED_MS: z.coerce.number().int().min(1).default(8_000),
  REST_TIMEOUT_SERVICE_MS: z.coerce.number().int().min(1).default(30_000),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
