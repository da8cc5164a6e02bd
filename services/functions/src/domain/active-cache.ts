// The hot path's one lookup (a function's active version and secrets revision), cached in-process. Every change
// (deploy, rollback, removal, secrets) drops the project's entries here at once and in every other replica over
// Redis pub/sub; the TTL bounds staleness should a message be lost.
import type { Redis } from 'ioredis';
import type { ActiveFunction, FunctionsDb } from '../db/functions.js';

const TTL_MS = 5_000;
const MAX = 10_000;

export class ActiveCache {
  readonly #entries = new Map<string, { fn: ActiveFunction | null; at: number }>();
  readonly #loading = new Map<string, Promise<ActiveFunction | null>>();
  readonly #channel: string;
  #epoch = 0;

  constructor(private readonly db: FunctionsDb, private readonly publisher: Redis, prefix: string) {
    this.#channel = `${prefix}functions:changed`;
  }

  /** Listens for other replicas' changes on a subscribed connection (the control plane's). */
  async listen(subscriber: Redis): Promise<void> {
    subscriber.on('message', (channel: string, ref: string) => {
      if (channel === this.#channel) this.#drop(ref);
    });
    await subscriber.subscribe(this.#channel);
  }

  /** The cached entry while fresh, without a promise; undefined: not cached, call get(). */
  peek(ref: string, slug: string): ActiveFunction | null | undefined {
    const hit = this.#entries.get(`${ref}/${slug}`);
    return hit && performance.now() - hit.at < TTL_MS ? hit.fn : undefined;
  }

  async get(ref: string, slug: string): Promise<ActiveFunction | null> {
    const key = `${ref}/${slug}`;
    const hit = this.#entries.get(key);
    if (hit && performance.now() - hit.at < TTL_MS) return hit.fn;
    // one query however many invocations miss at once
    let pending = this.#loading.get(key);
    if (!pending) {
      pending = this.db.active(ref, slug).finally(() => this.#loading.delete(key));
      this.#loading.set(key, pending);
      const at = performance.now();
      const epoch = this.#epoch;
      void pending.then((fn) => {
        if (epoch !== this.#epoch) return; // a change arrived while this was read: the row may predate it
        if (this.#entries.size >= MAX) this.#entries.delete(this.#entries.keys().next().value as string);
        this.#entries.set(key, { fn, at });
      }, () => undefined);
    }
    return pending;
  }

  /** After a change to the project's functions or secrets: here now, elsewhere when the message arrives. */
  async changed(ref: string): Promise<void> {
    this.#drop(ref);
    await this.publisher.publish(this.#channel, ref).catch(() => undefined);
  }

  #drop(ref: string): void {
    this.#epoch++;
    for (const key of this.#entries.keys()) if (key.startsWith(`${ref}/`)) this.#entries.delete(key);
    for (const key of this.#loading.keys()) if (key.startsWith(`${ref}/`)) this.#loading.delete(key);
  }
}
