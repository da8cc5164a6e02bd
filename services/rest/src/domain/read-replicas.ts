// Reads on the cluster's streaming replica, with read-your-writes per session. A project whose cluster has a
// replica (the registry's replicaConnectionString) reads there: GET, HEAD and RPC to STABLE or IMMUTABLE functions.
// After a session (the caller's token) writes, its reads stay on the primary until the replica has replayed past
// the write's WAL position (asked of the replica on each such read), or the window runs out. A write is remembered
// in this process and, when a Redis is given, for the window in Redis too, so a session whose next read lands on
// another REST replica still reads its write; that costs replica reads one Redis GET. With Redis unreachable the
// process's own memory is all there is (a read elsewhere may then see the replica a little behind).
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { ProjectPools } from '@basalt/db';
import type { Project } from '@basalt/tenancy';

export interface ReplicaRoute {
  /** the pool a read of this session goes to: the replica, or the primary while the replica is behind its write */
  read: () => Promise<pg.Pool>;
  /** records the WAL position after this session's write on the primary */
  wrote: () => Promise<void>;
}

export interface SharedWrites {
  redis: Redis;
  /** BASALT_REDIS_PREFIX */
  prefix: string;
}

export class ReadReplicas {
  readonly #writes = new LRUCache<string, { lsn: string; until: number }>({ max: 100_000 });
  /** the last write of a session the replica was seen to have replayed: its reads need not ask again */
  readonly #replayed = new LRUCache<string, string>({ max: 100_000 });

  constructor(private readonly pools: ProjectPools, private readonly windowMs: number, private readonly shared?: SharedWrites) {}

  #key = (session: string) => `${this.shared!.prefix}rest:ryw:${session}`;

  /**
   * This session's last write still inside its window. Redis's record is the latest whichever process took the
   * write; this process's own record stands in only while Redis cannot be asked.
   */
  async #lastWrite(session: string): Promise<{ lsn: string; until: number } | null> {
    if (this.shared) {
      try {
        const [lsn, ttl] = await this.shared.redis.multi().get(this.#key(session)).pttl(this.#key(session)).exec().then((r) => (r ?? []).map(([, v]) => v));
        return typeof lsn === 'string' && typeof ttl === 'number' && ttl > 0 ? { lsn, until: Date.now() + ttl } : null;
      } catch {
        /* this process's own record, below */
      }
    }
    return this.#writes.get(session) ?? null;
  }

  /** null when the project's cluster has no replica: everything goes to the primary, as before. */
  route(project: Project, token: string, primary: pg.Pool): ReplicaRoute | null {
    const replicaUrl = project.replicaConnectionString;
    if (!replicaUrl) return null;
    const session = `${project.ref}:${createHash('sha256').update(token).digest('base64url')}`;
    const replica = () => this.pools.get({ ref: project.ref, connectionString: replicaUrl });
    return {
      read: async () => {
        const w = await this.#lastWrite(session);
        if (!w || this.#replayed.get(session) === w.lsn) return replica();
        if (Date.now() > w.until || (await this.#caughtUp(replica(), w.lsn))) {
          this.#replayed.set(session, w.lsn);
          return replica();
        }
        return primary;
      },
      wrote: async () => {
        // the insert position: with asynchronous commit the write position may still be short of the commit record
        const { rows } = await primary.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
        this.#writes.set(session, { lsn: rows[0].lsn, until: Date.now() + this.windowMs });
        await this.shared?.redis.set(this.#key(session), rows[0].lsn, 'PX', this.windowMs).catch(() => undefined);
      },
    };
  }

  /** Whether the replica has replayed up to `lsn`; a replica that cannot say is treated as behind. */
  async #caughtUp(replica: pg.Pool, lsn: string): Promise<boolean> {
    try {
      const { rows } = await replica.query<{ ok: boolean | null }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as ok', [lsn]);
      return rows[0].ok === true;
    } catch {
      return false;
    }
  }
}
