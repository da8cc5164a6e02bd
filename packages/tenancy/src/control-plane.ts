// What every service connects to at start: the control database, Redis (commands and a subscriber for
// project invalidations) and the project registry; per-project pools it hands out are evicted when a
// project changes or goes away.
import type pg from 'pg';
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { createPool, ProjectPools, type ProjectPoolsOptions } from '@basalt/db';
import { ProjectRegistry } from './registry.js';
import { SLEEP_CHANNEL, sleepReportKey } from './sleep.js';

/** What a service released for a project put to sleep (counts by kind), recorded for the platform to show. */
export type SleepHandler = (ref: string) => Promise<Record<string, number>> | Record<string, number>;
/** how long a sleep report is kept */
const SLEEP_REPORT_TTL_S = 7 * 86_400;

export interface ControlPlaneOptions {
  service: string;
  databaseUrl: string;
  redisUrl: string;
  masterKey: string;
  log: { warn: (obj: object, msg: string) => void };
  controlPoolMax?: number;
  /** ms a control-database statement may go unanswered before it fails as DatabaseSilent (@basalt/db's silence) */
  silenceMs?: number;
}

export interface ControlPlane {
  control: pg.Pool;
  /** fail-fast commands: a Redis outage gives an error at once, a hung Redis after REDIS_COMMAND_TIMEOUT_MS; never a hung request */
  redis: Redis;
  /**
   * The subscribed connection (the registry's and sleep's channels): a service subscribes its own channels here
   * too, filtering 'message' by channel, rather than opening another (a subscribed connection runs no commands).
   */
  subscriber: Redis;
  registry: ProjectRegistry;
  secrets: SecretBox;
  /** readiness: the control database and Redis answer */
  ready: () => Promise<void>;
  /** a pool LRU whose entries are dropped when the registry invalidates their project */
  projectPools: (opts?: ProjectPoolsOptions) => ProjectPools;
  /** Releases the service's own per-project resources (isolates, listeners) when the project is put to sleep. */
  onSleep: (fn: SleepHandler) => void;
  close: () => Promise<void>;
}

/** What /ready checks in every service: the control database and Redis answer. */
export async function pingControlPlane(control: pg.Pool, redis: Redis): Promise<void> {
  await control.query('select 1');
  await redis.ping();
}

/**
 * How long a command of the fail-fast client may go unanswered: a Redis that hangs (paused, stopped, a black-holed
 * network) fails a caller after this, as one that is down fails it at once, rather than holding it for good (a REST
 * read of a project with a replica, an AI call's budget, a presence update).
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

export async function connectControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const control = createPool(o.databaseUrl, {
    max: o.controlPoolMax ?? 5,
    applicationName: `basalt-${o.service}`,
    silenceMs: o.silenceMs,
    onError: (err) => o.log.warn({ err: err.message }, 'idle control connection dropped'),
  });
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true });
  const subscriber = new Redis(o.redisUrl, { lazyConnect: true });
  redis.on('error', (err) => o.log.warn({ err: err.message }, 'redis error'));
  subscriber.on('error', (err) => o.log.warn({ err: err.message }, 'redis subscriber error'));
  await Promise.all([redis.connect(), subscriber.connect()]);
  const secrets = new SecretBox(o.masterKey);
  const registry = new ProjectRegistry({ control, secrets, subscriber, publisher: redis });
  await registry.start();
  const pools: ProjectPools[] = [];
  const sleepHandlers: SleepHandler[] = [];
  // A project put to sleep: its pools here close (the registry's invalidation already evicted them; this waits
  // for their connections to go), the service's own handlers release the rest, and what went is recorded.
  const sleep = async (ref: string) => {
    // the channel is shared by every install on this Redis: only our own projects are ours to release
    if (!(await registry.exists(ref))) return;
    const released: Record<string, number> = { pools: 0 };
    for (const p of pools) released.pools += (await p.release(ref)) ? 1 : 0;
    for (const fn of sleepHandlers) {
      for (const [k, v] of Object.entries(await fn(ref))) released[k] = (released[k] ?? 0) + v;
    }
    const field = `${o.service}:${process.pid}`;
    await redis.multi().hset(sleepReportKey(ref), field, JSON.stringify({ ...released, at: new Date().toISOString() }))
      .expire(sleepReportKey(ref), SLEEP_REPORT_TTL_S).exec();
  };
  subscriber.on('message', (channel: string, ref: string) => {
    if (channel !== SLEEP_CHANNEL) return;
    sleep(ref).catch((err: Error) => o.log.warn({ ref, err: err.message }, 'releasing a sleeping project failed'));
  });
  await subscriber.subscribe(SLEEP_CHANNEL);
  return {
    control,
    redis,
    subscriber,
    registry,
    secrets,
    ready: () => pingControlPlane(control, redis),
    projectPools: (opts = {}) => {
      const p = new ProjectPools({
        applicationName: `basalt-${o.service}`,
        onError: (ref, err) => o.log.warn({ ref, err: err.message }, 'idle project connection dropped'),
        ...opts,
      });
      registry.onInvalidate((ref) => (ref === '*' ? void p.closeAll() : p.evict(ref)));
      pools.push(p);
      return p;
    },
    onSleep: (fn) => void sleepHandlers.push(fn),
    close: async () => {
      registry.stop();
      await Promise.all(pools.map((p) => p.closeAll()));
      await control.end().catch(() => undefined);
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
