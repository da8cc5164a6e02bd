// What a public asset path resolved to (the file, the SPA fallback, the project's delivery settings, or nothing),
// cached in-process so a hot read asks Postgres nothing. Every change (publish, remove, settings) drops the
// project's entries here at once and in every other replica over Redis pub/sub; the TTL bounds staleness should
// a message be lost.
import type { Redis } from 'ioredis';
import { assetsChangedChannel } from '@basalt/http';

export interface AssetPathsOptions {
  ttlMs: number;
  /** entries across all projects */
  maxEntries: number;
}

interface Entry<T> {
  value: T;
  at: number;
}

export class AssetPaths<T> {
  /** ref → path → entry, so a project's entries go in one delete */
  readonly #byRef = new Map<string, Map<string, Entry<T>>>();
  readonly #loading = new Map<string, Map<string, Promise<T>>>();
  readonly #channel: string;
  #size = 0;
  /** bumped by every drop: a load that overlapped one may have read the old rows, and is not kept */
  #epoch = 0;

  constructor(private readonly publisher: Redis, prefix: string, private readonly opts: AssetPathsOptions) {
    this.#channel = assetsChangedChannel(prefix);
  }

  /** Listens for other replicas' changes on a subscribed connection (the control plane's). */
  async listen(subscriber: Redis): Promise<void> {
    subscriber.on('message', (channel: string, ref: string) => {
      if (channel === this.#channel) this.drop(ref);
    });
    await subscriber.subscribe(this.#channel);
  }

  /** The cached value while fresh, else undefined (nothing is loaded). */
  peek(ref: string, path: string): T | undefined {
    const hit = this.#byRef.get(ref)?.get(path);
    return hit && performance.now() - hit.at < this.opts.ttlMs ? hit.value : undefined;
  }

  /** The cached value while fresh; else `load`'s, one load however many reads miss at once. */
  get(ref: string, path: string, load: () => Promise<T>): T | Promise<T> {
    const hit = this.#byRef.get(ref)?.get(path);
    if (hit && performance.now() - hit.at < this.opts.ttlMs) return hit.value;
    let loading = this.#loading.get(ref);
    const pending = loading?.get(path);
    if (pending) return pending;
    if (!loading) this.#loading.set(ref, (loading = new Map()));
    const at = performance.now();
    const epoch = this.#epoch;
    const mine = loading;
    const load$ = load().finally(() => {
      mine.delete(path);
      if (mine.size === 0 && this.#loading.get(ref) === mine) this.#loading.delete(ref);
    });
    mine.set(path, load$);
    void load$.then((value) => {
      if (epoch === this.#epoch) this.#set(ref, path, { value, at });
    }, () => undefined);
    return load$;
  }

  /** After a change to the project's assets or settings: here now, elsewhere when the message arrives. */
  async changed(ref: string): Promise<void> {
    this.drop(ref);
    await this.publisher.publish(this.#channel, ref).catch(() => undefined);
  }

  /** Forgets the project's entries in this process (`*`: every project's). */
  drop(ref: string): void {
    this.#epoch++;
    if (ref === '*') {
      this.#byRef.clear();
      this.#loading.clear();
      this.#size = 0;
      return;
    }
    this.#size -= this.#byRef.get(ref)?.size ?? 0;
    this.#byRef.delete(ref);
    this.#loading.delete(ref);
  }

  #set(ref: string, path: string, entry: Entry<T>): void {
    let paths = this.#byRef.get(ref);
    if (!paths) this.#byRef.set(ref, (paths = new Map()));
    if (!paths.has(path)) this.#size++;
    paths.set(path, entry);
    while (this.#size > this.opts.maxEntries) {
      // the project cached first gives up its oldest entry
      const [oldestRef, oldest] = this.#byRef.entries().next().value as [string, Map<string, Entry<T>>];
      oldest.delete(oldest.keys().next().value as string);
      this.#size--;
      if (oldest.size === 0) this.#byRef.delete(oldestRef);
    }
  }
}
