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
  onError?: (ref: string, err: Error) => void;
}

export interface ProjectConnection {
  ref: string;
  /** changes when credentials rotate, so a stale pool is replaced */
  connectionString: string;
}

export class ProjectPools {
  readonly #pools: LRUCache<string, { pool: pg.Pool; connectionString: string }>;

  constructor(private readonly opts: ProjectPoolsOptions = {}) {
    this.#pools = new LRUCache({
      max: opts.maxProjects ?? 100,
      dispose: (entry) => void entry.pool.end().catch(() => undefined),
    });
  }

  /** Callers must have authenticated the request first: a pool is only ever built for a verified project. */
  get(project: ProjectConnection): pg.Pool {
    const hit = this.#pools.get(project.ref);
    if (hit && hit.connectionString === project.connectionString) return hit.pool;
    const pool = createPool(project.connectionString, {
      max: this.opts.maxPerProject ?? 5,
      idleTimeoutMillis: this.opts.idleTimeoutMillis ?? 30_000,
      connectionTimeoutMillis: this.opts.connectionTimeoutMillis ?? 5_000,
      applicationName: this.opts.applicationName,
      onError: (err) => this.opts.onError?.(project.ref, err),
    });
    this.#pools.set(project.ref, { pool, connectionString: project.connectionString });
    return pool;
  }

  /** Drops a project's pool (deleted project, rotated password). */
  evict(ref: string): void {
    this.#pools.delete(ref);
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
