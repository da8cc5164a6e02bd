// Memory service configuration; the only reader of process.env.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8007),
  /** the AI gateway, which meters every model call against the project's AI usage */
  AI_GATEWAY_URL: z.string().url().default('http://127.0.0.1:8006'),
  /** request bodies (messages travel inline) */
  MEMORY_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
  /** longest text one memory may hold (characters) */
  MEMORY_MAX_CONTENT_CHARS: z.coerce.number().int().min(100).max(100_000).default(20_000),
  /** connections per project database in this process */
  MEMORY_PROJECT_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(6),
  MEMORY_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** how long async_mode=false waits for an inference before answering with the pending event */
  MEMORY_SYNC_WAIT_MS: z.coerce.number().int().min(100).default(60_000),
  MEMORY_MODEL_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** linked memories an entity may hold; a hotter entity stops gaining links (its boost is negligible anyway) */
  MEMORY_ENTITY_LINK_CAP: z.coerce.number().int().min(1).default(1000),
  /** projects with at least this many memories (Postgres' estimate) are searched through the in-process code index */
  MEMORY_INDEX_MIN_ROWS: z.coerce.number().int().min(0).default(20_000),
  /** codes the process keeps across projects (about 300 bytes each at 1,536 dimensions); least recently used go */
  MEMORY_INDEX_MAX_VECTORS: z.coerce.number().int().min(1).default(500_000),
  /** a project's index is rebuilt from scratch this often (dropping deleted memories); in between it is refreshed */
  MEMORY_INDEX_REBUILD_MS: z.coerce.number().int().min(1000).default(600_000),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
