// Realtime configuration; the only reader of process.env. Per-project limits are project settings
// (settings.realtime.*); these are the defaults a project without them gets.
import { commonConfig, loadConfig as load, z } from '@basalt/config';

const schema = {
  ...commonConfig,
  PORT: z.coerce.number().int().default(8008),
  /** concurrent sockets per project (settings.realtime.max_connections overrides) */
  REALTIME_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(10_000),
  /** messages a socket may publish per second (settings.realtime.max_events_per_second) */
  REALTIME_MAX_EVENTS_PER_SECOND: z.coerce.number().int().min(1).default(100),
  /** channel joins per second, per project across replicas (settings.realtime.max_joins_per_second) */
  REALTIME_MAX_JOINS_PER_SECOND: z.coerce.number().int().min(1).default(500),
  /** presence track/untrack per second, per socket (settings.realtime.max_presence_events_per_second) */
  REALTIME_MAX_PRESENCE_EVENTS_PER_SECOND: z.coerce.number().int().min(1).default(100),
  /** one broadcast or presence payload (settings.realtime.max_payload_bytes) */
  REALTIME_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1).default(256 * 1024),
  /** channels one socket may join */
  REALTIME_MAX_CHANNELS_PER_SOCKET: z.coerce.number().int().min(1).default(100),
  /** a socket that sends nothing (not even a heartbeat) for this long is closed */
  REALTIME_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(90_000),
  /** how long a table stays captured (its trigger, or its place in the publication) after its last subscriber left */
  REALTIME_CAPTURE_LINGER_MS: z.coerce.number().int().min(0).default(5_000),
  /**
   * how changes are captured: logical decoding (pgoutput) where the project's cluster runs wal_level=logical and
   * its admin login may replicate, triggers otherwise (auto, the default); or always triggers; or always logical
   * (fails where it cannot). A logical stream uses a temporary slot, so if the replication connection drops, the
   * changes until the channels rejoin are lost (as a dropped LISTEN connection loses them with triggers).
   */
  REALTIME_CAPTURE: z.enum(['auto', 'trigger', 'logical']).default('auto'),
  /** database connections per project used for RLS checks of changes and private channels */
  REALTIME_DB_POOL_PER_PROJECT: z.coerce.number().int().min(1).default(5),
  /** this replica's id in Redis (presence, capture bookkeeping); random when unset */
  REALTIME_REPLICA_ID: z.string().optional(),
};

export type Config = ReturnType<typeof loadConfig>;
export const loadConfig = (env: Record<string, string | undefined> = process.env) => load(schema, env);
