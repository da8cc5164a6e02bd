// Documents service configuration; the only reader of process.env.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8010),
  /** MongoDB wire protocol port; 0 picks a free one (reported by GET /platform/v1/projects/:ref/documents/wire) */
  DOCUMENTS_WIRE_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** host put in the connection URIs handed out with credentials (default: BASALT_PUBLIC_URL's host) */
  DOCUMENTS_WIRE_HOST: z.string().optional(),
  /** TLS on the wire port (PEM files); with them, `allow` takes TLS and plain connections, `require` TLS only */
  DOCUMENTS_WIRE_TLS_CERT_FILE: z.string().optional(),
  DOCUMENTS_WIRE_TLS_KEY_FILE: z.string().optional(),
  DOCUMENTS_WIRE_TLS_MODE: z.enum(['allow', 'require']).default('allow'),
  /** most documents one find/aggregate answer returns over HTTP; a larger limit is refused */
  DOCUMENTS_MAX_PAGE: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** most documents an in-memory pipeline stage or distinct may hold */
  DOCUMENTS_MAX_SCAN: z.coerce.number().int().min(1000).default(200_000),
  DOCUMENTS_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
  DOCUMENTS_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  DOCUMENTS_TTL_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /** PBKDF2 iterations of issued SCRAM-SHA-256 credentials (MongoDB's default is 15000; the driver needs ≥ 4096) */
  DOCUMENTS_SCRAM_ITERATIONS: z.coerce.number().int().min(4096).default(15_000),
  DOCUMENTS_POOL_PER_PROJECT: z.coerce.number().int().min(1).default(10),
};

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const c = load(schema, env);
  if (!c.DOCUMENTS_WIRE_TLS_CERT_FILE !== !c.DOCUMENTS_WIRE_TLS_KEY_FILE) {
    throw new Error('DOCUMENTS_WIRE_TLS_CERT_FILE and DOCUMENTS_WIRE_TLS_KEY_FILE go together');
  }
  // test fleets start many services side by side: a fixed 27017 would collide, so tests get a free port
  const wirePort = c.DOCUMENTS_WIRE_PORT ?? (c.NODE_ENV === 'test' ? 0 : 27017);
  return Object.freeze({ ...c, DOCUMENTS_WIRE_PORT: wirePort, DOCUMENTS_WIRE_HOST: c.DOCUMENTS_WIRE_HOST ?? new URL(c.BASALT_PUBLIC_URL).hostname });
}
