// Which realtime replicas are alive (a Redis sorted set scored by last heartbeat) and how many sockets each
// holds per project, so a project's connection cap counts every replica and a crashed replica's entries
// (presence, sockets, capture claims) stop counting once its heartbeat is stale.
import type { Redis } from 'ioredis';

const BEAT_MS = 5_000;
const STALE_MS = 20_000;

export class Replicas {
  #live = new Set<string>();
  #timer?: NodeJS.Timeout;

  constructor(private readonly redis: Redis, private readonly prefix: string, readonly id: string) {
    this.#live.add(id);
  }

  async start(): Promise<void> {
    await this.#beat();
    this.#timer = setInterval(() => void this.#beat().catch(() => undefined), BEAT_MS);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    const now = Date.now();
    const key = `${this.prefix}rt:replicas`;
    const res = await this.redis.multi().zadd(key, now, this.id).zremrangebyscore(key, 0, now - STALE_MS * 30).zrangebyscore(key, now - STALE_MS, '+inf').exec();
    const live = res?.[2]?.[1] as string[] | undefined;
    if (live) this.#live = new Set([...live, this.id]);
  }

  /** The live replicas asked of Redis now (for decisions a stale view could get wrong: dropping a trigger). */
  async liveNow(): Promise<Set<string>> {
    const live = await this.redis.zrangebyscore(`${this.prefix}rt:replicas`, Date.now() - STALE_MS, '+inf');
    return new Set([...live, this.id]);
  }

  isLive(id: string): boolean {
    return this.#live.has(id);
  }

  /** Counts a new socket; false (and nothing counted) when the project is at its cap across replicas. */
  async admitSocket(ref: string, max: number): Promise<boolean> {
    const key = `${this.prefix}rt:conns:${ref}`;
    await this.redis.hincrby(key, this.id, 1);
    if ((await this.connectionCount(ref)) <= max) return true;
    await this.redis.hincrby(key, this.id, -1);
    return false;
  }

  async releaseSocket(ref: string): Promise<void> {
    await this.redis.hincrby(`${this.prefix}rt:conns:${ref}`, this.id, -1);
  }

  /** The project's sockets on every live replica. */
  async connectionCount(ref: string): Promise<number> {
    const all = await this.redis.hgetall(`${this.prefix}rt:conns:${ref}`);
    let total = 0;
    for (const [replica, n] of Object.entries(all)) if (this.isLive(replica)) total += Number(n);
    return total;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.redis.zrem(`${this.prefix}rt:replicas`, this.id).catch(() => undefined);
  }
}
