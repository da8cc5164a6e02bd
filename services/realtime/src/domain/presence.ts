// Presence shared by every replica: one Redis hash per channel scope holds each tracking channel's current
// meta (field `<replica>:<channel id>`); diffs travel as hub messages. Entries of a replica whose heartbeat
// went stale are left out of every state, so a crashed replica's users drop out.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Hub } from './hub.js';
import type { Replicas } from './replicas.js';

export type Meta = Record<string, unknown> & { phx_ref: string; phx_ref_prev?: string };
export type PresenceMap = Record<string, { metas: Meta[] }>;

const newRef = () => randomBytes(12).toString('base64url');

export class PresenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly replicas: Replicas,
    private readonly hub: Hub,
  ) {}

  #key = (scope: string) => `${this.prefix}rt:pres:${scope}`;
  #field = (channelId: number) => `${this.replicas.id}:${channelId}`;

  async state(scope: string): Promise<PresenceMap> {
    const all = await this.redis.hgetall(this.#key(scope));
    // keys are the clients' own: one named toString or __proto__ must find no inherited member here
    const out: PresenceMap = Object.create(null);
    for (const [field, value] of Object.entries(all)) {
      if (!this.replicas.isLive(field.slice(0, field.lastIndexOf(':')))) continue;
      const { key, meta } = JSON.parse(value) as { key: string; meta: Meta };
      (out[key] ??= { metas: [] }).metas.push(meta);
    }
    return out;
  }

  /** Stores the channel's new state and announces it (leaving the previous meta, as Phoenix's update does). */
  async track(scope: string, topic: string, channelId: number, key: string, state: Record<string, unknown>, prev: Meta | null): Promise<Meta> {
    const meta: Meta = { ...state, phx_ref: newRef(), ...(prev ? { phx_ref_prev: prev.phx_ref } : {}) };
    await this.redis.hset(this.#key(scope), this.#field(channelId), JSON.stringify({ key, meta }));
    this.#announce(scope, topic, { joins: { [key]: { metas: [meta] } }, leaves: prev ? { [key]: { metas: [prev] } } : {} });
    return meta;
  }

  async untrack(scope: string, topic: string, channelId: number, key: string, meta: Meta): Promise<void> {
    await this.redis.hdel(this.#key(scope), this.#field(channelId));
    this.#announce(scope, topic, { joins: {}, leaves: { [key]: { metas: [meta] } } });
  }

  #announce(scope: string, topic: string, diff: { joins: PresenceMap; leaves: PresenceMap }): void {
    this.hub.publish(scope, { topic, kind: 'presence_diff', userEvent: '', encoding: 1, bytes: Buffer.from(JSON.stringify(diff)), meta: '', exclude: null });
  }
}
