// One feed per project with channels on this replica: a LISTEN connection to the project database that
// hears realtime.send() ('realtime:send') and, with trigger capture, captured changes ('realtime:changes') at
// commit, in commit order, once; with logical capture the changes come from its replication stream. Changes are
// queued and processed in batches (one RLS read per set of claims and table per batch, many callers per round
// trip), in order.
// A lost LISTEN connection is connected again (for up to RECONNECT_MS), and with trigger capture the changes
// committed meanwhile are read back from realtime.change_log, those already received left out: a subscriber who
// stays connected misses none and gets none twice. (Changes made more than REPLAY_MS before the loss by a
// transaction that commits during it are not read back.) A feed that cannot reconnect errors its channels so
// clients rejoin (phx_error); so does a replication stream that cannot resume.
import pg from 'pg';
import type { Redis } from 'ioredis';
import { asCaller, type ProjectPools } from '@basalt/db';
import type { Logger } from '@basalt/http';
import type { Project } from '@basalt/tenancy';
import { messageById, pruneMessages } from '../db/messages.js';
import { changesAfter, lastChangeNumber, pruneChangeLog, tablesOf } from '../db/tables.js';
import type { Hub } from '../domain/hub.js';
import type { Replicas } from '../domain/replicas.js';
import type { Channel } from '../socket/channel.js';
import { Capture, type ChangeCapture } from './capture.js';
import { processBatch, type Note } from './deliver.js';
import { chooseCapture, LogicalCapture, type CaptureMode } from './logical.js';
import { reconnect } from './reconnect.js';
import { SeenChanges } from './seen.js';
import { TableCache } from './table-cache.js';

const IDLE_CLOSE_MS = 30_000;
/** how long a lost LISTEN connection is tried again before the feed's channels are errored */
const RECONNECT_MS = 60_000;
/** a read-back starts at the changes made this long before the loss */
const REPLAY_MS = 60_000;
/** the change log keeps this much behind the newest change a feed has seen (pruned every PRUNE_EVERY_MS) */
const LOG_KEEP_MS = 300_000;
const PRUNE_EVERY_MS = 30_000;
/** how often a feed sweeps what crashed replicas left (at its start too) */
const SWEEP_EVERY_MS = 60_000;
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
  /** trigger capture: the changes received, for the read-back after a lost connection */
  #seen: SeenChanges | null = null;
  /** notifications heard while a read-back runs, handled after it */
  #held: [string, string][] | null = null;
  #timer?: NodeJS.Timeout;
  #ticks = 0;
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
      const warn = (msg: string) => (err: Error) => this.deps.log.warn({ ref: this.project.ref, err: err.message }, msg);
      this.capture = new LogicalCapture(() => this.project.adminConnectionString, this.deps.replicas, {
        onNotes: (notes) => this.#onChanges(notes),
        onResuming: warn('realtime replication stream broke; resuming from its slot'),
        onLost: (err) => {
          warn('realtime replication stream lost')(err);
          this.#lost();
        },
      }, this.deps.lingerMs, warn('realtime capture table not unpublished'));
    } else {
      // changes made before the feed are not its to read back
      this.#seen = new SeenChanges(await asAdmin(this.pool, lastChangeNumber), Date.now(), LOG_KEEP_MS);
    }
    this.listener = await this.#connectListener();
    this.#timer = setInterval(() => this.#tick(), 1_000);
    this.#timer.unref();
    void asAdmin(this.pool, pruneMessages).catch(() => undefined);
    // triggers a crashed (or trigger-mode) replica left fire on every write even where changes are decoded
    for (const cap of new Set([this.triggers, this.capture])) {
      void cap.sweep().catch((err: Error) => this.deps.log.warn({ ref: this.project.ref, err: err.message }, 'stale capture not swept'));
    }
  }

  async #connectListener(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: this.project.connectionString, application_name: 'basalt-realtime-listen' });
    c.on('error', () => this.#listenerLost(c));
    c.on('end', () => this.#listenerLost(c));
    c.on('notification', (n) => this.#onNote(n.channel, n.payload ?? ''));
    try {
      await c.connect();
      // with logical capture a trigger another replica installed must not deliver a change twice
      await c.query(this.capture instanceof LogicalCapture ? 'listen "realtime:send"' : 'listen "realtime:changes"; listen "realtime:send"');
      return c;
    } catch (e) {
      c.removeAllListeners('end');
      void c.end().catch(() => undefined);
      throw e;
    }
  }

  /** Samples what was received; now and then prunes the change log and sweeps what crashed replicas left. */
  #tick(): void {
    if (this.dead) return;
    this.#seen?.sample();
    if (++this.#ticks % (PRUNE_EVERY_MS / 1_000)) return;
    // a younger feed knows no number that old: what it would prune, another replica's feed may still read back
    if (this.#seen?.reaches(LOG_KEEP_MS)) {
      const upTo = this.#seen.floor(LOG_KEEP_MS);
      void asAdmin(this.pool, (tx) => pruneChangeLog(tx, upTo)).catch(() => undefined);
    }
    if (this.#ticks % (SWEEP_EVERY_MS / 1_000)) return;
    for (const cap of new Set([this.triggers, this.capture])) void cap.sweep().catch(() => undefined);
  }

  #listenerLost(c: pg.Client): void {
    if (this.dead || this.listener !== c) return;
    this.listener = null;
    void c.end().catch(() => undefined);
    this.deps.log.warn({ ref: this.project.ref }, 'realtime LISTEN connection lost; reconnecting');
    void this.#relisten();
  }

  /**
   * Connects the LISTEN connection again; with triggers, reads back what committed while it was down. One run at a
   * time (#held is set while it runs): a connection lost during the read-back is its own to try again.
   */
  async #relisten(): Promise<void> {
    if (this.#held) return;
    // what the read-back finds arrives before what the new connection hears meanwhile
    this.#held = [];
    const since = this.#seen?.floor(REPLAY_MS);
    try {
      await reconnect(async () => {
        const c = await this.#connectListener();
        this.listener = c;
        try {
          if (since !== undefined) {
            const missed = (await asAdmin(this.pool, (tx) => changesAfter(tx, since))) as Note[];
            if (this.listener !== c) throw new Error('the LISTEN connection was lost during the read-back');
            this.#onChanges(missed.filter((n) => this.#seen!.add(n.i)));
          }
        } catch (e) {
          if (this.listener === c) this.listener = null;
          void c.end().catch(() => undefined);
          throw e;
        }
      }, { deadline: Date.now() + RECONNECT_MS, stopped: () => this.dead, cause: new Error('LISTEN connection lost') });
    } catch {
      this.#held = null;
      return this.#lost();
    }
    const held = this.#held;
    this.#held = null;
    for (const [channel, payload] of held) this.#onNote(channel, payload);
  }

  #lost(): void {
    if (this.dead) return;
    this.dead = true;
    clearInterval(this.#timer);
    this.onDead(this);
    // a replication stream holds a slot: it ends with its feed (trigger claims stay for the sweep, as the rejoining
    // feed on this replica may already have claimed the same tables under the same replica id)
    if (this.capture instanceof LogicalCapture) void this.capture.releaseAll().catch(() => undefined);
    void this.listener?.end().catch(() => undefined);
    for (const ch of [...this.channels]) {
      ch.push('phx_error', {});
      ch.owner.dropChannel(ch);
    }
  }

  #onNote(channel: string, payload: string): void {
    if (this.#held) return void this.#held.push([channel, payload]);
    let note: Record<string, unknown>;
    try {
      note = JSON.parse(payload);
    } catch {
      return;
    }
    if (channel === 'realtime:send') return void this.#sent(note).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'realtime.send message lost'));
    // heard on a new connection after being read back
    if (this.#seen && !this.#seen.add(note.i as number)) return;
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
    const listed = new Set<string>(); // a schema's tables are listed once, however many entries name all of them
    for (const b of ch.bindings) {
      if (SYSTEM_SCHEMAS.has(b.schema) || (b.table === '*' && listed.has(b.schema))) continue;
      if (b.table === '*') listed.add(b.schema);
      const names = b.table === '*' ? await tablesOf(this.pool, b.schema) : [b.table];
      for (const t of names) wanted.set(`${b.schema}.${t}`, [b.schema, t]);
    }
    const claimed: [string, string][] = [];
    this.claims.set(ch, claimed);
    for (const [schema, table] of wanted.values()) {
      if (!(await this.tables.get(schema, table))) continue; // no such table: nothing to capture (as Realtime: no error)
      await this.capture.claim(schema, table);
      // unsubscribed meanwhile (the channel left mid-join): nothing else will release this claim
      if (this.claims.get(ch) !== claimed) return this.capture.release(schema, table);
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
    clearInterval(this.#timer);
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
    // the channel left while attaching (its socket closed mid-join): its detach came before this subscription
    if (ch.closed) this.detach(project.ref, ch);
  }

  detach(ref: string, ch: Channel): void {
    const feed = this.#feeds.get(ref);
    if (!feed) return;
    feed.unsubscribe(ch);
    if (!feed.channels.delete(ch) || feed.channels.size > 0) return;
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
