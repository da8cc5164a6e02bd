// One feed per project with channels on this replica: a LISTEN connection to the project database that
// hears realtime.send() ('realtime:send') and, with trigger capture, captured changes ('realtime:changes') at
// commit, in commit order, once; with logical capture the changes come from its replication stream. Changes are
// queued and processed in batches (one RLS read per set of claims and table per batch, many callers per round
// trip), in order. A lost LISTEN connection errors its channels so clients rejoin (phx_error).
import pg from 'pg';
import type { Redis } from 'ioredis';
import { asCaller, type ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import type { Project } from '@basalt/tenancy';
import { messageById, pruneMessages } from '../db/messages.js';
import { tablesOf } from '../db/tables.js';
import type { Hub } from '../domain/hub.js';
import type { Replicas } from '../domain/replicas.js';
import type { Channel } from '../socket/channel.js';
import { Capture, type ChangeCapture } from './capture.js';
import { processBatch, type Note } from './deliver.js';
import { chooseCapture, LogicalCapture, type CaptureMode } from './logical.js';
import { TableCache } from './table-cache.js';

const IDLE_CLOSE_MS = 30_000;
const BATCH = 2_000;
const SYSTEM_SCHEMAS = new Set(['realtime', 'pg_catalog', 'information_schema', 'pg_toast']);

export interface FeedDeps {
  pools: ProjectPools;
  redis: Redis;
  prefix: string;
  replicas: Replicas;
  hub: Hub;
  log: Logger;
  lingerMs: number;
  /** connections per project pool: visibility checks are spread over this many */
  poolSize: number;
  /** REALTIME_CAPTURE: logical decoding where the cluster allows it (auto), or one of the two always */
  captureMode: CaptureMode;
}

export class Feed {
  readonly channels = new Set<Channel>();
  /** the tables each subscribed channel claimed */
  readonly claims = new Map<Channel, [string, string][]>();
  readonly tables: TableCache;
  /** the trigger capture; also the feed's capture unless the cluster decodes (then it only sweeps) */
  readonly triggers: Capture;
  capture: ChangeCapture;
  readonly queue: Note[] = [];
  listener: pg.Client | null = null;
  ready: Promise<void>;
  #draining = false;
  idle?: NodeJS.Timeout;
  dead = false;

  constructor(public project: Project, readonly deps: FeedDeps, private readonly onDead: (f: Feed) => void) {
    this.tables = new TableCache(() => this.pool);
    this.capture = this.triggers = new Capture(project.ref, () => this.pool, deps.redis, deps.prefix, deps.replicas, deps.lingerMs,
      (err) => deps.log.warn({ ref: project.ref, err: err.message }, 'realtime capture trigger not dropped'));
    this.ready = this.#listen();
  }

  get pool(): pg.Pool {
    return this.deps.pools.get(this.project);
  }

  async #listen(): Promise<void> {
    const mode = await chooseCapture(this.deps.captureMode, this.project.adminConnectionString);
    if (mode === 'logical') {
      this.capture = new LogicalCapture(() => this.project.adminConnectionString, this.deps.replicas, {
        onNotes: (notes) => this.#onChanges(notes),
        onLost: (err) => {
          this.deps.log.warn({ ref: this.project.ref, err: err.message }, 'realtime replication stream lost');
          this.#lost();
        },
      }, this.deps.lingerMs, (err) => this.deps.log.warn({ ref: this.project.ref, err: err.message }, 'realtime capture table not unpublished'));
    }
    const c = new pg.Client({ connectionString: this.project.connectionString, application_name: 'basalt-realtime-listen' });
    c.on('error', () => this.#lost());
    c.on('end', () => this.#lost());
    c.on('notification', (n) => this.#onNote(n.channel, n.payload ?? ''));
    await c.connect();
    // with logical capture a trigger another replica installed must not deliver a change twice
    await c.query(mode === 'trigger' ? 'listen "realtime:changes"; listen "realtime:send"' : 'listen "realtime:send"');
    this.listener = c;
    void asAdmin(this.pool, pruneMessages).catch(() => undefined);
    // triggers a crashed (or trigger-mode) replica left fire on every write even where changes are decoded
    for (const cap of new Set([this.triggers, this.capture])) {
      void cap.sweep().catch((err: Error) => this.deps.log.warn({ ref: this.project.ref, err: err.message }, 'stale capture not swept'));
    }
  }

  #lost(): void {
    if (this.dead) return;
    this.dead = true;
    this.onDead(this);
    // a replication stream holds a slot: it ends with its feed (trigger claims stay for the sweep, as the rejoining
    // feed on this replica may already have claimed the same tables under the same replica id)
    if (this.capture instanceof LogicalCapture) void this.capture.releaseAll().catch(() => undefined);
    for (const ch of [...this.channels]) {
      ch.push('phx_error', {});
      ch.owner.dropChannel(ch);
    }
  }

  #onNote(channel: string, payload: string): void {
    let note: Record<string, unknown>;
    try {
      note = JSON.parse(payload);
    } catch {
      return;
    }
    if (channel === 'realtime:send') return void this.#sent(note).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'realtime.send message lost'));
    this.#onChanges([note as unknown as Note]);
  }

  #onChanges(notes: Note[]): void {
    if (this.claims.size === 0) return;
    for (const n of notes) this.queue.push(n);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.queue.length) await processBatch(this, this.queue.splice(0, BATCH));
    } catch (err) {
      this.deps.log.error({ ref: this.project.ref, err: (err as Error).message }, 'postgres changes batch failed');
    } finally {
      this.#draining = false;
      if (this.queue.length) void this.#drain();
    }
  }

  async #sent(n: Record<string, unknown>): Promise<void> {
    let { topic, event, payload, private: priv } = n as { topic: string; event: string; payload: unknown; private: boolean };
    if (n.big) {
      const row = await asAdmin(this.pool, (tx) => messageById(tx, String(n.id)));
      if (!row) return;
      ({ topic, event, payload, private: priv } = row);
    }
    const scope = `${this.project.ref}:${priv ? 'p' : 'u'}:${topic}`;
    this.deps.hub.deliverLocal(scope, {
      topic: `realtime:${topic}`, kind: 'broadcast', userEvent: String(event ?? ''), encoding: 1,
      bytes: Buffer.from(JSON.stringify(payload ?? null)), meta: JSON.stringify({ id: n.id }), exclude: null,
    });
  }

  async subscribe(ch: Channel): Promise<void> {
    const wanted = new Map<string, [string, string]>();
    for (const b of ch.bindings) {
      if (SYSTEM_SCHEMAS.has(b.schema)) continue;
      const names = b.table === '*' ? await tablesOf(this.pool, b.schema) : [b.table];
      for (const t of names) wanted.set(`${b.schema}.${t}`, [b.schema, t]);
    }
    const claimed: [string, string][] = [];
    this.claims.set(ch, claimed);
    for (const [schema, table] of wanted.values()) {
      if (!(await this.tables.get(schema, table))) continue; // no such table: nothing to capture (as Realtime: no error)
      await this.capture.claim(schema, table);
      claimed.push([schema, table]);
    }
  }

  unsubscribe(ch: Channel): void {
    const claimed = this.claims.get(ch);
    if (!claimed) return;
    this.claims.delete(ch);
    for (const [s, t] of claimed) this.capture.release(s, t);
  }

  async close(): Promise<void> {
    this.dead = true;
    await this.capture.releaseAll();
    await this.listener?.end().catch(() => undefined);
  }
}

const asAdmin = <T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> => asCaller(pool, { role: 'basalt_admin', claims: {} }, fn);

export class ChangeFeeds {
  readonly #feeds = new Map<string, Feed>();

  constructor(private readonly deps: FeedDeps) {}

  /** Every channel attaches (realtime.send reaches it); channels with bindings also subscribe to changes. */
  async attach(project: Project, ch: Channel): Promise<void> {
    let feed = this.#feeds.get(project.ref);
    if (!feed) {
      feed = new Feed(project, this.deps, (f) => this.#feeds.get(f.project.ref) === f && this.#feeds.delete(f.project.ref));
      this.#feeds.set(project.ref, feed);
      feed.ready.catch(() => this.#feeds.get(project.ref) === feed && this.#feeds.delete(project.ref));
    }
    feed.project = project;
    clearTimeout(feed.idle);
    feed.channels.add(ch);
    try {
      await feed.ready;
      if (ch.bindings.length) await feed.subscribe(ch);
    } catch (e) {
      this.detach(project.ref, ch);
      throw e;
    }
  }

  detach(ref: string, ch: Channel): void {
    const feed = this.#feeds.get(ref);
    if (!feed || !feed.channels.delete(ch)) return;
    feed.unsubscribe(ch);
    if (feed.channels.size > 0) return;
    feed.idle = setTimeout(() => {
      if (feed.channels.size > 0) return;
      this.#feeds.delete(ref);
      void feed.close();
    }, IDLE_CLOSE_MS);
    feed.idle.unref();
  }

  evict(ref: string): void {
    const feed = this.#feeds.get(ref);
    if (!feed) return;
    this.#feeds.delete(ref);
    void feed.close();
  }

  /** A sleeping project's feed closes now: capture triggers dropped, LISTEN connection ended; true if it had one. */
  async release(ref: string): Promise<boolean> {
    const feed = this.#feeds.get(ref);
    if (!feed) return false;
    this.#feeds.delete(ref);
    clearTimeout(feed.idle);
    await feed.close();
    return true;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#feeds.values()];
    this.#feeds.clear();
    await Promise.all(all.map((f) => f.close()));
  }
}
