// An LRU of per-project pools: each project gets a small bounded pool, the least recently used are closed
// when the process holds too many, so one busy tenant cannot take every connection of the cluster.
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { createPool } from './pool.js';

export interface ProjectPoolsOptions {
  /** how many projects may hold an open pool in this process */
  maxProjects?: number;
  /** connections per project in this process */
  maxPerProject?: number;
  idleTimeoutMillis?: number;
  connectionTimeoutMillis?: number;
  applicationName?: string;
  /** a role every connection takes at session start (see PoolOptions.role) */
  role?: string;
  /** see PoolOptions.silenceMs */
  silenceMs?: number;
  onError?: (ref: string, err: Error) => void;
}

export interface ProjectConnection {
  ref: string;
  /** changes when credentials rotate, so a stale pool is replaced */
  connectionString: string;
  /** the quota that made the platform turn the project's database read-only (see readOnlyPool) */
  readOnlyReason?: string | null;
}

/**
 * Pools of projects the platform made read-only (over db_bytes). The database's own default
 * (default_transaction_read_only) is a session setting any statement may lift for its session: a tenant's function
 * calling set_config('default_transaction_read_only', 'off', false) would leave its pooled connection writable for
 * whoever takes it next. A transaction on such a pool asks for read-only itself (asCaller, oneTrip, REST, cron).
 */
const readOnlyPools = new WeakSet<pg.Pool>();
export const readOnlyPool = (pool: pg.Pool): boolean => readOnlyPools.has(pool);

/** pg.Pool's connect, either form (promise, or callback as its own query() uses it) */
type Connect = (this: pg.Pool, cb?: unknown) => unknown;

export class ProjectPools {
  readonly #pools: LRUCache<string, { pool: pg.Pool; connectionString: string }>;
  /** pools being ended, by ref: end() waits for checked-out clients, and release() waits for it */
  readonly #closing = new Map<string, Promise<void>>();

  constructor(private readonly opts: ProjectPoolsOptions = {}) {
    this.#pools = new LRUCache({
      max: opts.maxProjects ?? 100,
      dispose: (entry, ref) => {
        const closing = entry.pool.end().catch(() => undefined);
        const both = Promise.all([this.#closing.get(ref), closing]).then(() => undefined);
        this.#closing.set(ref, both);
        void both.finally(() => this.#closing.get(ref) === both && this.#closing.delete(ref));
      },
    });
  }

  /** Callers must have authenticated the request first: a pool is only ever built for a verified project. */
  get(project: ProjectConnection): pg.Pool {
    const hit = this.#pools.get(project.ref);
    const readOnly = !!project.readOnlyReason;
    if (hit && hit.connectionString === project.connectionString && readOnlyPool(hit.pool) === readOnly) return hit.pool;
    const pool = createPool(project.connectionString, {
      max: this.opts.maxPerProject ?? 5,
      idleTimeoutMillis: this.opts.idleTimeoutMillis ?? 30_000,
      connectionTimeoutMillis: this.opts.connectionTimeoutMillis ?? 5_000,
      applicationName: this.opts.applicationName,
      role: this.opts.role,
      silenceMs: this.opts.silenceMs,
      onError: (err) => this.opts.onError?.(project.ref, err),
    });
    // A request that took this pool before it was replaced (its project changed: a new API key, new settings) is
    // served by the pool in its place: failing it ("Cannot use a pool after calling end on the pool", a 503) for a
    // change it did not ask for is not ours to do. Its connections still go at once, for the role's limit.
    const connect = pool.connect as Connect;
    pool.connect = ((cb?: unknown) => {
      if (!pool.ending) return connect.call(pool, cb);
      const successor = this.#successor(project);
      return successor === pool ? connect.call(pool, cb) : (successor.connect as Connect).call(successor, cb);
    }) as pg.Pool['connect'];
    if (readOnly) readOnlyPools.add(pool);
    this.#pools.set(project.ref, { pool, connectionString: project.connectionString });
    return pool;
  }

  /** the project's pool now, or a new one for what the caller knew of it (a release or a deletion left none) */
  #successor(project: ProjectConnection): pg.Pool {
    return this.#pools.get(project.ref)?.pool ?? this.get(project);
  }

  /** Drops a project's pool (deleted project, rotated password). */
  evict(ref: string): void {
    this.#pools.delete(ref);
  }

  /** Closes a project's pool (a sleeping project) and resolves once its connections are gone; true if it had one. */
  async release(ref: string): Promise<boolean> {
    const had = this.#pools.delete(ref);
    await this.#closing.get(ref);
    return had;
  }

  get size(): number {
    return this.#pools.size;
  }

  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values()].map((e) => e.pool);
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }
}
