// createApp(deps): the realtime service — the WebSocket endpoint (Phoenix channels as realtime-js speaks
// them), REST broadcast under /realtime/v1/api and the project's realtime stats for its owner. Redis
// connections, the registry and per-project pools are built by main.ts (or a test) and handed in.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { ProjectPools } from '@basalt/db';
import type { BasaltError } from '@basalt/errors';
import type { Meter } from '@basalt/metering';
import { createService, registerRoutes, type Logger } from '@basalt/http';
import { RateLimiter } from '@basalt/rate-limit';
import { pingControlPlane, type ProjectRegistry } from '@basalt/tenancy';
import { ChangeFeeds } from './changes/feeds.js';
import type { Config } from './config.js';
import { ChannelAuth } from './domain/channel-auth.js';
import { Hub } from './domain/hub.js';
import { PresenceStore } from './domain/presence.js';
import { Replicas } from './domain/replicas.js';
import { restBroadcaster } from './domain/rest-broadcast.js';
import { rtErrors } from './errors.js';
import { broadcastRoutes } from './routes/broadcast.js';
import { callerOf } from './routes/caller.js';
import { statsRoutes } from './routes/stats.js';
import type { SocketDeps } from './socket/deps.js';
import { attachSockets } from './socket/server.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  /** a connection used only for SUBSCRIBE (fan-out from other replicas) */
  subscriber: Redis;
  registry: ProjectRegistry;
  pools: ProjectPools;
  replicaId: string;
  log: Logger;
  meter?: Meter;
}

export function createApp(deps: Deps) {
  const { config: c, log } = deps;
  const service = createService({
    name: 'realtime',
    log,
    errorShape: (e: BasaltError) => ({ message: e.message, code: e.code }),
    validationError: rtErrors.validation,
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  const prefix = c.BASALT_REDIS_PREFIX;
  const replicas = new Replicas(deps.redis, prefix, deps.replicaId);
  const hub = new Hub(deps.redis, deps.subscriber, prefix, deps.replicaId);
  const channelAuth = new ChannelAuth(deps.pools, log);
  const feeds = new ChangeFeeds({ pools: deps.pools, redis: deps.redis, prefix, replicas, hub, log, lingerMs: c.REALTIME_CAPTURE_LINGER_MS, poolSize: c.REALTIME_DB_POOL_PER_PROJECT, captureMode: c.REALTIME_CAPTURE });
  const onRedisError = (err: Error) => log.warn({ err: err.message }, 'realtime join limits unavailable; failing open');
  const socketDeps: SocketDeps = {
    config: c, log, registry: deps.registry, hub, replicas, channelAuth, feeds, meter: deps.meter,
    presence: new PresenceStore(deps.redis, prefix, replicas, hub),
    joins: new RateLimiter(deps.redis, { prefix, onError: onRedisError, registry: service.metrics.registry }),
  };
  const sockets = attachSockets(service.app.server, socketDeps);
  const broadcast = restBroadcaster({ config: c, hub, channelAuth });
  // A deleted project's sockets and database listener go at once.
  deps.registry.onInvalidate((ref) => {
    if (ref === '*') return;
    void deps.registry.exists(ref).then((alive) => {
      if (alive) return;
      feeds.evict(ref);
      for (const conn of sockets.connections) if (conn.ref === ref) conn.ws.close(1000, 'project deleted');
    }, () => undefined);
  });

  service.app.register(async (api) => {
    api.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: 10_000_000 }, (_req, body, done) => done(null, body));
    registerRoutes(api, broadcastRoutes(async (req, messages) => {
      const { project, principal } = await callerOf(deps, req);
      await broadcast(project, principal, messages);
    }));
  }, { prefix: '/realtime/v1' });
  service.app.register(async (api) => {
    registerRoutes(api, statsRoutes(deps.control, deps.registry, replicas));
  }, { prefix: '/platform/v1/projects/:ref/realtime' });

  /**
   * A project put to sleep: its change feed closes first (so closing sockets touches no database), then its sockets
   * (realtime-js reconnects, which wakes the project), then its pool. Returns what went, for the platform's report.
   */
  const releaseProject = async (ref: string) => {
    const feeds_ = (await feeds.release(ref)) ? 1 : 0;
    let sockets_ = 0;
    for (const conn of sockets.connections) {
      if (conn.ref !== ref) continue;
      conn.ws.close(1001, 'project sleeping');
      sockets_++;
    }
    await deps.pools.release(ref);
    return { realtime_feeds: feeds_, realtime_sockets: sockets_ };
  };

  return {
    ...service,
    releaseProject,
    start: () => replicas.start(),
    /** every socket closed with 1001 (the drain's start); close() does it again, finding none */
    closeSockets: () => sockets.close(),
    close: async () => {
      await sockets.close();
      await feeds.closeAll();
      await replicas.stop();
    },
  };
}
