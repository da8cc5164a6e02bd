// Which tables carry the capture trigger: installed when a table gets its first subscriber on any replica,
// dropped a little after its last one leaves everywhere. Replicas record their claims in a Redis set; the
// install/drop decision runs under a per-table advisory lock so a claim cannot race a drop.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { asCaller } from '@basalt/db';
import { capturedTables, dropCapture, installCapture, lockTable } from '../db/tables.js';
import type { Replicas } from '../domain/replicas.js';
import { ClaimedCapture } from './claims.js';

const ADMIN = { role: 'basalt_admin', claims: {} };

/** What a feed asks of a capture, triggers or logical decoding alike. */
export interface ChangeCapture {
  /** resolves once the table's changes are captured (from this commit on) */
  claim(schema: string, table: string): Promise<void>;
  release(schema: string, table: string): void;
  readonly active: number;
  /** cleans up what a crashed replica left */
  sweep(): Promise<void>;
  releaseAll(): Promise<void>;
}

export class Capture extends ClaimedCapture implements ChangeCapture {
  constructor(
    private readonly ref: string,
    private readonly pool: () => pg.Pool,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly replicas: Replicas,
    lingerMs: number,
    private readonly onError: (err: Error) => void,
  ) {
    super(lingerMs, onError);
  }

  #set = () => `${this.prefix}rt:cap:${this.ref}`;
  // the member format is shared with every other replica through Redis
  #member = (schema: string, table: string) => `${this.replicas.id}|${schema}.${table}`;

  protected async startCapture(schema: string, table: string): Promise<void> {
    await asCaller(this.pool(), ADMIN, async (tx) => {
      await lockTable(tx, schema, table);
      await this.redis.sadd(this.#set(), this.#member(schema, table));
      await installCapture(tx, schema, table);
    });
  }

  protected async stopCapture(schema: string, table: string): Promise<void> {
    if (this.claimed(schema, table)) return;
    await asCaller(this.pool(), ADMIN, async (tx) => {
      await lockTable(tx, schema, table);
      if (this.claimed(schema, table)) return; // claimed again while waiting for the lock
      await this.redis.srem(this.#set(), this.#member(schema, table));
      const [members, live] = await Promise.all([this.redis.smembers(this.#set()), this.replicas.liveNow()]);
      const others = members.some((m) => m.endsWith(`|${schema}.${table}`) && live.has(m.slice(0, m.indexOf('|'))));
      if (!others) await dropCapture(tx, schema, table);
    });
  }

  /** Drops triggers no live replica claims (left by a replica that crashed while it had subscribers). */
  async sweep(): Promise<void> {
    for (const [schema, table] of await capturedTables(this.pool())) {
      if (!this.held(schema, table)) await this.stopCapture(schema, table);
    }
  }

  /** Drops every claim of this replica now (shutdown). */
  async releaseAll(): Promise<void> {
    for (const [schema, table] of this.clearClaims()) await this.stopCapture(schema, table).catch(this.onError);
  }
}
