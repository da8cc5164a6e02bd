// What the socket layer needs from the rest of the service, built once in app.ts.
import type { Logger } from '@basalt/http';
import type { Meter } from '@basalt/metering';
import type { RateLimiter } from '@basalt/rate-limit';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { ChangeFeeds } from '../changes/feeds.js';
import type { Config } from '../config.js';
import type { ChannelAuth } from '../domain/channel-auth.js';
import type { Hub } from '../domain/hub.js';
import type { PresenceStore } from '../domain/presence.js';
import type { Replicas } from '../domain/replicas.js';

export interface SocketDeps {
  config: Config;
  log: Logger;
  registry: ProjectRegistry;
  hub: Hub;
  presence: PresenceStore;
  replicas: Replicas;
  joins: RateLimiter;
  channelAuth: ChannelAuth;
  feeds: ChangeFeeds;
  /** usage per project per hour: connections, their peak, messages delivered */
  meter?: Meter;
}
