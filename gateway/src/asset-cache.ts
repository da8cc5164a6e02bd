// Published assets kept in the gateway: a site's small files answered without the hop to storage. Storage marks the
// answers anyone may be given (@basalt/http's SHARED_CACHE_HEADER) and the gateway keeps the small ones, per
// project and path, until the project's assets change. A change is heard three ways: an asset admin write passing
// through this gateway drops the project's entries when it completes (so a client reads its own deploy at once),
// every other change arrives on the assets-changed channel storage publishes to, and a TTL bounds what a lost
// message could leave. While that channel is not being heard (Redis down, reconnecting) nothing is kept or served.
// A fill that began before a change, or in the moment after it (settleMs, while other storage replicas may not
// have heard it yet), is not kept.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { assetsChangedChannel, notModified } from '@basalt/http';

export interface AssetCacheOptions {
  /** all entries' bodies together; 0 turns the cache off */
  maxBytes: number;
  /** the largest body kept */
  maxFileBytes: number;
  /** how long an entry is trusted should a change message be lost */
  ttlMs: number;
  /** fills that began within this long after a change are not kept */
  settleMs?: number;
}

interface Entry {
  /** the service's headers as forwarded ([name, value, …], content-length last, no date): a 200's */
  head: string[];
  /** the same without content-length: a 304's */
  head304: string[];
  body: Buffer;
  etag: string;
  lastModified: Date;
  at: number;
}

export class AssetCache {
  /** ref → path → entry, so a project's entries go in one delete; projects in the order first kept */
  readonly #byRef = new Map<string, Map<string, Entry>>();
  /** ref → when its last change was heard (performance.now()) */
  readonly #changedAt = new Map<string, number>();
  #allChangedAt = -Infinity;
  #bytes = 0;
  #live = false;
  readonly #settleMs: number;

  constructor(private readonly opts: AssetCacheOptions) {
    this.#settleMs = opts.settleMs ?? 1_000;
  }

  /** the largest body worth collecting for keep(); 0 while nothing is kept */
  get keepBytes(): number {
    return this.#live && this.opts.maxBytes > 0 ? this.opts.maxFileBytes : 0;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Hears storage's changes on `subscriber`, a subscribed connection (the control plane's). Until this resolves,
   * and whenever that connection is down, nothing is kept.
   */
  async listen(subscriber: Redis, redisPrefix: string): Promise<void> {
    const channel = assetsChangedChannel(redisPrefix);
    subscriber.on('message', (from: string, ref: string) => {
      if (from === channel) this.drop(ref);
    });
    subscriber.on('close', () => {
      this.#live = false;
      this.drop('*');
    });
    // back after an outage: what changed meanwhile was not heard, so everything goes (the settle window covers
    // the resubscription ioredis sends right after 'ready')
    subscriber.on('ready', () => {
      this.drop('*');
      this.#live = true;
    });
    await subscriber.subscribe(channel);
    this.#live = true;
  }

  /** The entry for the project's path while fresh and heard over. */
  get(ref: string, path: string): Entry | undefined {
    if (!this.#live) return undefined;
    const paths = this.#byRef.get(ref);
    const e = paths?.get(path);
    if (e === undefined) return undefined;
    if (performance.now() - e.at < this.opts.ttlMs) return e;
    this.#remove(ref, paths!, path, e);
    return undefined;
  }

  /**
   * Keeps a 200 the service marked shared. `startedAt` is when the request was sent on (performance.now()): a fill
   * that began before the project's last change, or within settleMs after it, is not kept.
   */
  keep(ref: string, path: string, startedAt: number, head: string[], body: Buffer): void {
    if (!this.#live || body.length > this.opts.maxFileBytes || body.length > this.opts.maxBytes) return;
    // a fill slower than the settle window is not kept either, so a change older than two windows can be forgotten
    const now = performance.now();
    if (now - startedAt > this.#settleMs) return;
    const changed = Math.max(this.#allChangedAt, this.#changedAt.get(ref) ?? -Infinity);
    if (startedAt < changed + this.#settleMs) return;
    let etag: string | null = null;
    let lastModified: Date | null = null;
    const head304: string[] = [];
    for (let i = 0; i < head.length; i += 2) {
      const name = head[i]!.toLowerCase();
      if (name === 'etag') etag = head[i + 1]!;
      else if (name === 'last-modified') lastModified = new Date(head[i + 1]!);
      if (name !== 'content-length') head304.push(head[i]!, head[i + 1]!);
    }
    // without validators a conditional request could not be answered as storage would: not kept
    if (etag === null || lastModified === null || Number.isNaN(lastModified.getTime())) return;
    let paths = this.#byRef.get(ref);
    if (!paths) this.#byRef.set(ref, (paths = new Map()));
    const old = paths.get(path);
    if (old) this.#bytes -= old.body.length;
    paths.set(path, { head, head304, body, etag, lastModified, at: now });
    this.#bytes += body.length;
    while (this.#bytes > this.opts.maxBytes) {
      // the project kept first gives up its oldest entry
      const [oldestRef, oldest] = this.#byRef.entries().next().value as [string, Map<string, Entry>];
      const [oldestPath, e] = oldest.entries().next().value as [string, Entry];
      this.#remove(oldestRef, oldest, oldestPath, e);
    }
  }

  /** Forgets the project's entries (`*`: every project's), and fills that overlapped or follow closely. */
  drop(ref: string): void {
    const now = performance.now();
    if (ref === '*') {
      this.#allChangedAt = now;
      this.#byRef.clear();
      this.#changedAt.clear();
      this.#bytes = 0;
      return;
    }
    if (this.#changedAt.size >= 10_000) this.#forgetSettled(now);
    this.#changedAt.set(ref, now);
    const paths = this.#byRef.get(ref);
    if (!paths) return;
    for (const e of paths.values()) this.#bytes -= e.body.length;
    this.#byRef.delete(ref);
  }

  /**
   * Answers from an entry as storage would (200, HEAD, or 304 to a current conditional request) with the
   * gateway's own headers after the service's; gives the status and the body bytes sent.
   */
  answer(req: IncomingMessage, res: ServerResponse, e: Entry, ours: string[]): { status: number; bytes: number } {
    if (notModified(req, e.etag, e.lastModified)) {
      res.writeHead(304, ours.length ? [...e.head304, ...ours] : e.head304);
      res.end();
      return { status: 304, bytes: 0 };
    }
    res.writeHead(200, ours.length ? [...e.head, ...ours] : e.head);
    if (req.method === 'HEAD') {
      res.end();
      return { status: 200, bytes: 0 };
    }
    res.end(e.body);
    return { status: 200, bytes: e.body.length };
  }

  #remove(ref: string, paths: Map<string, Entry>, path: string, e: Entry): void {
    paths.delete(path);
    this.#bytes -= e.body.length;
    if (paths.size === 0) this.#byRef.delete(ref);
  }

  /** changes two settle windows old no longer hold back any fill keep() would take (none lasts longer than one) */
  #forgetSettled(now: number): void {
    for (const [ref, at] of this.#changedAt) if (now - at >= 2 * this.#settleMs) this.#changedAt.delete(ref);
  }
}
