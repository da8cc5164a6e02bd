// Validated configuration: every service declares a zod schema and calls loadConfig once in main.ts.
import { z } from 'zod';

export { z };

/**
 * The longest the AI gateway waits for a model provider (its AI_UPSTREAM_TIMEOUT_MS, a provider's timeout_ms): 15
 * minutes, past the SDKs' own 10 per attempt. The gateway in front of it waits longer on its routes, so a slow
 * answer is the AI gateway's to time out, in its API's shape.
 */
export const AI_UPSTREAM_TIMEOUT_MAX_MS = 900_000;

/**
 * The longest an edge function may be given to answer (FUNCTIONS_TIMEOUT_MS, a function's timeout_ms): 400 s, as
 * Supabase's paid plans. The gateway waits longer on its routes, so a slow function is the functions service's to
 * time out, in its own shape.
 */
export const FUNCTION_TIMEOUT_MAX_MS = 400_000;

/** Keys every service shares; a service spreads these into its own schema. */
export const commonConfig = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/basalt'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** prefix of every Redis key and BullMQ queue, so several installs (or test runs) can share one Redis */
  BASALT_REDIS_PREFIX: z.string().default('basalt:'),
  /**
   * Destinations tenants' outbound requests (functions' fetch, OAuth/OIDC endpoints, SMTP) may reach although
   * private or loopback: comma-separated `host`, `host:port` or CIDR entries (@basalt/egress). Operator-only.
   */
  BASALT_EGRESS_ALLOW: z.string().default(''),
  BASALT_MASTER_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'must be 32 bytes as 64 hex characters (openssl rand -hex 32)')
    .refine((v) => !/^0+$/.test(v), 'is the all-zero placeholder; generate one with openssl rand -hex 32'),
  BASALT_DOMAIN: z.string().default('localhost'),
  BASALT_PUBLIC_URL: z.string().url().default('http://localhost:8000'),
  /**
   * ms a statement of the service's own (the control database's; a project's, in services whose statements have no
   * timeout of their own) may go unanswered before its database counts as silent (frozen, out of reach): the caller
   * gets a 503 and the connection is dropped, rather than waiting as long as the OS keeps a dead socket.
   */
  DATABASE_SILENCE_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** Seconds a stopping service keeps answering while load balancers notice /ready is 503. */
  DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** how often log-like tables (cron runs, function invocations) are pruned to their age and count limits */
  HISTORY_PRUNE_INTERVAL_MS: z.coerce.number().int().min(100).default(600_000),
  /** usage metering (@basalt/metering): counters per project per hour, flushed to platform.usage_hourly */
  BASALT_METERING: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  METERING_FLUSH_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses env against the schema; throws one ConfigError listing every bad key. */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<z.ZodObject<S>>> {
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return Object.freeze(parsed.data);
}

/** `postgres://u@h:p/db` → the same URL on another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}
