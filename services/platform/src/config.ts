// Platform service configuration; the only reader of process.env.
import { commonConfig, loadConfig as load, z } from '@basalt/config';
import { objectStoreConfig } from '@basalt/object-store';

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
  /** DNS servers for custom-domain verification, `ip[:port]` comma-separated; the system's when unset */
  BASALT_DNS_SERVERS: z.string().default('').transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  /** how long a pending custom-domain claim may wait for verification */
  CUSTOM_DOMAIN_CLAIM_TTL_HOURS: z.coerce.number().positive().default(168),
  /** the port the HTTP domain challenge is fetched on: 80 (as ACME's http-01) except in tests */
  CUSTOM_DOMAIN_HTTP_PORT: z.coerce.number().int().min(1).max(65_535).default(80),
  /** seconds a project may stay idle before it sleeps, when its plan names no sleep_after_s; 0: never */
  PROJECT_SLEEP_AFTER_S: z.coerce.number().int().min(0).default(0),
  /** how often idle projects are looked for */
  PROJECT_SLEEP_CHECK_S: z.coerce.number().int().min(1).default(60),
  CUSTOM_DOMAIN_CHECK_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /** how often database size and stored bytes are sampled for metering (projects with traffic; every project hourly) */
  METERING_SAMPLE_INTERVAL_MS: z.coerce.number().int().min(100).default(300_000),
  /**
   * The plan new projects get. `unlimited` (no quota) suits a self-hosted install, as self-hosted Supabase has none;
   * a hosted offering sets `free`. Must name a plan in platform.plans (checked at start).
   */
  BASALT_DEFAULT_PLAN: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/).default('unlimited'),
  /**
   * Plans defined in configuration, as JSON `{"<name>": {"<quota>": number|null, …}, …}`: written over the stored
   * ones at every start, so configuration stays the source of truth for the plans it names. Empty: none.
   */
  BASALT_PLANS: z.string().default('').transform((v, ctx) => {
    if (!v.trim()) return {} as Record<string, unknown>;
    try {
      const doc: unknown = JSON.parse(v);
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
    } catch { /* reported below */ }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object of plan name → quotas' });
    return z.NEVER;
  }),
  /** how often database quotas are reconciled: size against db_bytes (read-only when over), connections, timeout */
  QUOTA_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /** how often the statements of projects whose plan sets statement_timeout_ms are checked against it (a statement
   *  past it by 1 s is cancelled, by 4 s its session ends, whatever timeout the session set for itself) */
  STATEMENT_WATCHDOG_INTERVAL_MS: z.coerce.number().int().min(100).default(1_000),
  /** where backups are written: the storage service's object store settings (STORAGE_BACKEND, STORAGE_FS_ROOT, S3_*) */
  ...objectStoreConfig,
  /** the UTC hour nightly backups start at, or `off` (on-demand backups and retention still work) */
  BACKUP_NIGHTLY_HOUR_UTC: z.union([z.literal('off').transform(() => null), z.coerce.number().int().min(0).max(23)]).default(3),
  /** days a backup is kept when the project's plan names no backup_retention_days */
  BACKUP_RETENTION_DAYS: z.coerce.number().min(0).default(7),
  /** how often the backup schedule looks for due nightly backups, expired backups and abandoned jobs */
  BACKUP_SCHEDULE_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /** backups and restores one replica runs at once (each is a pg_dump or pg_restore process) */
  BACKUP_CONCURRENCY: z.coerce.number().int().min(1).default(2),
  /** the directory of pg_dump and pg_restore; default: the newest /usr/lib/postgresql/<n>/bin, else PATH */
  BACKUP_PG_BIN_DIR: z.string().optional(),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
