// What every service connects to at start: the control database, Redis (commands and a subscriber for
// project invalidations) and the project registry; per-project pools it hands out are evicted when a
// project changes or goes away.
import type pg from 'pg';
import { Redis } from 'ioredis';
import { SecretBox } from '@basalt/crypto';
import { createPool, ProjectPools, type ProjectPoolsOptions } from '@basalt/db';
import { ProjectRegistry } from './registry.js';

export interface ControlPlaneOptions {
  service: string;
  databaseUrl: string;
  redisUrl: string;
  masterKey: string;
  log: { warn: (obj: object, msg: string) => void };
  controlPoolMax?: number;
}

export interface ControlPlane {
  control: pg.Pool;
  /** fail-fast commands: a Redis outage gives an error, never a hung request */
  redis: Redis;
  registry: ProjectRegistry;
  secrets: SecretBox;
  /** readiness: the control database and Redis answer */
  ready: () => Promise<void>;
  /** a pool LRU whose entries are dropped when the registry invalidates their project */
  projectPools: (opts?: ProjectPoolsOptions) => ProjectPools;
  close: () => Promise<void>;
}

/** What /ready checks in every service: the control database and Redis answer. */
export async function pingControlPlane(control: pg.Pool, redis: Redis): Promise<void> {
  await control.query('select 1');
  await redis.ping();
}

export async function connectControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const control = createPool(o.databaseUrl, {
    max: o.controlPoolMax ?? 5,
    applicationName: `basalt-${o.service}`,
    onError: (err) => o.log.warn({ err: err.message }, 'idle control connection dropped'),
  });
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  const subscriber = new Redis(o.redisUrl, { lazyConnect: true });
  redis.on('error', (err) => o.log.warn({ err: err.message }, 'redis error'));
  subscriber.on('error', (err) => o.log.warn({ err: err.message }, 'redis subscriber error'));
  await Promise.all([redis.connect(), subscriber.connect()]);
  const secrets = new SecretBox(o.masterKey);
  const registry = new ProjectRegistry({ control, secrets, subscriber, publisher: redis });
  await registry.start();
  const pools: ProjectPools[] = [];
  return {
    control,
    redis,
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
    close: async () => {
      await Promise.all(pools.map((p) => p.closeAll()));
      await control.end().catch(() => undefined);
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
