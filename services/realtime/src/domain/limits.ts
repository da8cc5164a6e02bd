// A project's realtime limits: its settings (settings.realtime.*) over the service defaults, under its plan's quotas.
import { capped, type Project } from '@basalt/tenancy';
import type { Config } from '../config.js';

export interface Limits {
  clientBroadcast: boolean;
  maxConnections: number;
  eventsPerSecond: number;
  joinsPerSecond: number;
  presencePerSecond: number;
  maxPayloadBytes: number;
}

export function limitsOf(project: Project, c: Config): Limits {
  const s = (project.settings.realtime ?? {}) as Record<string, unknown>;
  const n = (v: unknown, d: number) => (typeof v === 'number' && v > 0 ? v : d);
  return {
    clientBroadcast: s.client_broadcast !== false,
    maxConnections: capped(n(s.max_connections, c.REALTIME_MAX_CONNECTIONS), project.quotas.realtime_connections),
    eventsPerSecond: n(s.max_events_per_second, c.REALTIME_MAX_EVENTS_PER_SECOND),
    joinsPerSecond: n(s.max_joins_per_second, c.REALTIME_MAX_JOINS_PER_SECOND),
    presencePerSecond: n(s.max_presence_events_per_second, c.REALTIME_MAX_PRESENCE_EVENTS_PER_SECOND),
    maxPayloadBytes: n(s.max_payload_bytes, c.REALTIME_MAX_PAYLOAD_BYTES),
  };
}

/** A per-second budget held in memory (one socket's own publishing rate). */
export class SecondBudget {
  #second = 0;
  #used = 0;
  take(limit: number): boolean {
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.#second) {
      this.#second = now;
      this.#used = 0;
    }
    return ++this.#used <= limit;
  }
}
