// Which tables carry the capture trigger: installed when a table gets its first subscriber on any replica,
// dropped a little after its last one leaves everywhere. Replicas record their claims in a Redis set; the
// install/drop decision runs under a per-table advisory lock so a claim cannot race a drop.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { asCaller } from '@basalt/db';
import { capturedTables, dropCapture, installCapture, lockTable } from '../db/tables.js';
import type { Replicas } from '../domain/replicas.js';

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

export class Capture implements ChangeCapture {
  readonly #counts = new Map<string, number>();
  readonly #lingering = new Map<string, NodeJS.Timeout>();
  readonly #installing = new Map<string, Promise<void>>();

  constructor(
    private readonly ref: string,
    private readonly pool: () => pg.Pool,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly replicas: Replicas,
    private readonly lingerMs: number,
    private readonly onError: (err: Error) => void,
  ) {}

  #set = () => `${this.prefix}rt:cap:${this.ref}`;
  #member = (key: string) => `${this.replicas.id}|${key}`;

  /** Resolves once the table's changes are captured (from this commit on). */
  async claim(schema: string, table: string): Promise<void> {
    const key = `${schema}.${table}`;
    const n = this.#counts.get(key) ?? 0;
    this.#counts.set(key, n + 1);
    const linger = this.#lingering.get(key);
    if (linger) {
      clearTimeout(linger);
      this.#lingering.delete(key);
      return;
    }
    if (n > 0) return this.#installing.get(key);
    const install = asCaller(this.pool(), ADMIN, async (tx) => {
      await lockTable(tx, schema, table);
      await this.redis.sadd(this.#set(), this.#member(key));
      await installCapture(tx, schema, table);
    }).finally(() => this.#installing.delete(key));
    this.#installing.set(key, install);
    try {
      await install;
    } catch (e) {
      this.#counts.set(key, (this.#counts.get(key) ?? 1) - 1);
      if (this.#counts.get(key) === 0) this.#counts.delete(key);
      throw e;
    }
  }

  release(schema: string, table: string): void {
    const key = `${schema}.${table}`;
    const n = (this.#counts.get(key) ?? 1) - 1;
    if (n > 0) return void this.#counts.set(key, n);
    this.#counts.delete(key);
    const timer = setTimeout(() => {
      this.#lingering.delete(key);
      void this.#drop(schema, table, key).catch(this.onError);
    }, this.lingerMs);
    timer.unref();
    this.#lingering.set(key, timer);
  }

  get active(): number {
    return this.#counts.size + this.#lingering.size;
  }

  async #drop(schema: string, table: string, key: string): Promise<void> {
    if (this.#counts.has(key)) return;
    await asCaller(this.pool(), ADMIN, async (tx) => {
      await lockTable(tx, schema, table);
      if (this.#counts.has(key)) return; // claimed again while waiting for the lock
      await this.redis.srem(this.#set(), this.#member(key));
      const [members, live] = await Promise.all([this.redis.smembers(this.#set()), this.replicas.liveNow()]);
      const others = members.some((m) => m.endsWith(`|${key}`) && live.has(m.slice(0, m.indexOf('|'))));
      if (!others) await dropCapture(tx, schema, table);
    });
  }

  /** Drops triggers no live replica claims (left by a replica that crashed while it had subscribers). */
  async sweep(): Promise<void> {
    for (const [schema, table] of await capturedTables(this.pool())) {
      const key = `${schema}.${table}`;
      if (!this.#counts.has(key) && !this.#lingering.has(key)) await this.#drop(schema, table, key);
    }
  }

  /** Drops every claim of this replica now (shutdown). */
  async releaseAll(): Promise<void> {
    for (const t of this.#lingering.values()) clearTimeout(t);
    const keys = [...new Set([...this.#counts.keys(), ...this.#lingering.keys()])];
    this.#counts.clear();
    this.#lingering.clear();
    for (const key of keys) {
      const dot = key.indexOf('.');
      await this.#drop(key.slice(0, dot), key.slice(dot + 1), key).catch(this.onError);
    }
  }
}
