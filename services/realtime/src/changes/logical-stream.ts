// One logical replication stream of a project database: this stream's own publication (empty at first, tables
// are added while subscribed), its own pgoutput slot and the walsender connection streaming it. Each committed
// transaction comes out once, in commit order, as the Notes the trigger capture would have sent.
// The slot is a persistent one, so a broken connection loses nothing: the stream connects again and resumes after
// the last transaction it passed on (the server skips what committed before that point), for up to RESUME_MS;
// Postgres restarting within that time is such a break. Ending the stream drops the slot and the publication:
// nothing is retained for an idle project. A replica that dies leaves both behind, for the sweep (logical.ts).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  createSlot, dropPublication, dropSlot, publishTable, resetPublication, rowsAsJson, startReplicationSql, unpublishTable,
  type RowsOf,
} from '../db/publications.js';
import type { Note } from './deliver.js';
import { parseFrame, parseMessage, standbyStatus, type Relation, type Tuple } from './pgoutput.js';
import { reconnect } from './reconnect.js';

const STATUS_EVERY_MS = 10_000;
const JSON_TYPES = new Set([114, 3802]);
/** how long a broken stream keeps trying to resume before it gives up (its subscribers then rejoin) */
const RESUME_MS = 60_000;

interface Change {
  rel: Relation;
  o: Note['o'];
  next: Tuple | null;
  prev: Tuple | null;
}

export interface StreamHooks {
  /** a committed transaction's changes, in order (called in commit order, one transaction at a time) */
  onNotes: (notes: Note[]) => void;
  /** the stream broke for good (not by stop()): it could not resume within RESUME_MS */
  onLost: (err: Error) => void;
  /** the connection broke and the stream is resuming (for the log) */
  onResuming?: (err: Error) => void;
}

interface CopyConnection extends NodeJS.EventEmitter {
  sendCopyFromChunk: (b: Buffer) => void;
}

export class LogicalStream {
  readonly name: string;
  readonly #relations = new Map<number, Relation>();
  #txn: { commitMs: number; changes: Change[] } | null = null;
  #seq = 0;
  /** the end of the last transaction passed on (or of WAL seen idle): where a resumed stream starts */
  #confirmed = 0n;
  #emitting: Promise<void> = Promise.resolve();
  #timer?: NodeJS.Timeout;
  #stopped = false;
  #admin: Promise<pg.Client> | null = null;
  #replication: pg.Client | null = null;
  #resuming = false;
  /** when the replication connection broke (0: streaming) */
  #brokenSince = 0;

  private constructor(private readonly url: string, namePrefix: string, private readonly hooks: StreamHooks) {
    this.name = `${namePrefix}${randomBytes(6).toString('hex')}`;
  }

  /** Creates the publication then the slot (the slot's start is the first change captured), streams. */
  static async open(adminUrl: string, namePrefix: string, hooks: StreamHooks): Promise<LogicalStream> {
    const s = new LogicalStream(adminUrl, namePrefix, hooks);
    try {
      await resetPublication(await s.#adminClient(), s.name);
      const replication = await s.#connect();
      await createSlot(replication, s.name);
      await s.#stream(replication);
      s.#timer = setInterval(() => s.#confirm(), STATUS_EVERY_MS);
      s.#timer.unref();
      return s;
    } catch (e) {
      await s.stop();
      throw e;
    }
  }

  /** The connection for publication changes and typing values, connected again after it broke. */
  #adminClient(): Promise<pg.Client> {
    if (this.#admin) return this.#admin;
    const c = new pg.Client({ connectionString: this.url, application_name: 'basalt-realtime-capture' });
    const admin = c.connect().then(() => c);
    const forget = () => {
      if (this.#admin === admin) this.#admin = null;
    };
    c.on('error', forget);
    c.on('end', forget);
    admin.catch(forget);
    this.#admin = admin;
    return admin;
  }

  async #connect(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: this.url, replication: 'database', application_name: 'basalt-realtime-wal' } as pg.ClientConfig);
    c.on('error', (err) => this.#broken(c, err));
    c.on('end', () => this.#broken(c, new Error('replication connection ended')));
    this.#replication = c;
    await c.connect();
    return c;
  }

  /** Starts streaming on `c`; resolves once the server has started (the slot is this session's). */
  #stream(c: pg.Client): Promise<void> {
    const con = (c as unknown as { connection: CopyConnection }).connection;
    con.on('copyData', (msg: { chunk: Buffer }) => {
      try {
        if (this.#replication === c) this.#onFrame(msg.chunk);
      } catch (e) {
        this.#broken(c, e as Error);
      }
    });
    return new Promise<void>((resolve, reject) => {
      con.once('replicationStart', () => {
        this.#brokenSince = 0;
        resolve();
      });
      // resolves only when streaming ends
      c.query(startReplicationSql(this.name, this.name, this.#confirmed)).then(
        () => this.#broken(c, new Error('replication ended')),
        (e: Error) => {
          reject(e);
          this.#broken(c, e);
        },
      );
    });
  }

  /** The replication connection broke: what it had of an unfinished transaction is sent again on resuming. */
  #broken(c: pg.Client, err: Error): void {
    if (this.#stopped || this.#replication !== c) return;
    this.#replication = null;
    this.#txn = null;
    this.#relations.clear();
    void c.end().catch(() => undefined);
    if (!this.#brokenSince) {
      this.#brokenSince = Date.now();
      this.hooks.onResuming?.(err);
    }
    void this.#resume(err);
  }

  /** Connects again and streams from where the stream was, until it works or RESUME_MS have passed since the break. */
  async #resume(cause: Error): Promise<void> {
    if (this.#resuming) return;
    this.#resuming = true;
    try {
      await reconnect(async () => {
        try {
          // a slot the broken session's walsender still holds refuses the start ("is active"): tried again
          await this.#stream(await this.#connect());
        } catch (e) {
          const c = this.#replication;
          this.#replication = null;
          void c?.end().catch(() => undefined);
          throw e;
        }
      }, { deadline: this.#brokenSince + RESUME_MS, stopped: () => this.#stopped, cause });
    } catch (e) {
      this.#fail(e as Error);
    } finally {
      this.#resuming = false;
    }
  }

  #onFrame(buf: Buffer): void {
    const f = parseFrame(buf);
    if (!f) return;
    if (f.kind === 'keepalive') {
      // outside a transaction everything up to the server's position has been seen: the slot may move on
      if (!this.#txn && f.end > this.#confirmed) this.#confirmed = f.end;
      if (f.replyNow) this.#confirm();
      return;
    }
    const m = parseMessage(f.body, this.#relations);
    if (m.tag === 'relation') this.#relations.set(m.relation.id, m.relation);
    else if (m.tag === 'begin') this.#txn = { commitMs: m.commitMs, changes: [] };
    else if (m.tag === 'insert') this.#txn?.changes.push({ rel: this.#relations.get(m.relId)!, o: 'INSERT', next: m.next, prev: null });
    // an unchanged TOASTed value is not sent; a whole old row (REPLICA IDENTITY FULL) still has it
    else if (m.tag === 'update') this.#txn?.changes.push({ rel: this.#relations.get(m.relId)!, o: 'UPDATE', next: withUnchanged(m.next, m.prev), prev: m.prev });
    else if (m.tag === 'delete') this.#txn?.changes.push({ rel: this.#relations.get(m.relId)!, o: 'DELETE', next: null, prev: m.prev });
    else if (m.tag === 'commit') {
      const txn = this.#txn;
      this.#txn = null;
      if (m.end > this.#confirmed) this.#confirmed = m.end;
      if (txn?.changes.length) this.#emit(txn.commitMs, txn.changes);
    }
  }

  #confirm(): void {
    const con = (this.#replication as unknown as { connection?: CopyConnection } | null)?.connection;
    if (!this.#stopped && con) con.sendCopyFromChunk(standbyStatus(this.#confirmed));
  }

  /** Values are typed by the database, one round trip per transaction, chained so transactions stay in order. */
  #emit(commitMs: number, changes: Change[]): void {
    this.#emitting = this.#emitting.then(async () => {
      const groups = new Map<Relation, RowsOf>();
      const tuples: (Tuple | null)[] = [];
      for (const ch of changes) {
        for (const t of [ch.next, ch.o === 'UPDATE' ? ch.prev ?? keyOf(ch.rel, ch.next!) : ch.prev]) {
          const o = tuples.push(t) - 1;
          if (!t) continue;
          let g = groups.get(ch.rel);
          if (!g) groups.set(ch.rel, (g = { schema: ch.rel.schema, table: ch.rel.table, rows: [] }));
          g.rows.push({ o, v: withJson(ch.rel, t) });
        }
      }
      const typed = await this.#adminClient().then((c) => rowsAsJson(c, [...groups.values()])).catch(() => null);
      const value = (o: number) => (tuples[o] ? sameKeys(typed?.get(o) ?? tuples[o]!, tuples[o]!) : null);
      this.hooks.onNotes(changes.map((ch, k) => ({
        i: ++this.#seq, s: ch.rel.schema, t: ch.rel.table, o: ch.o, c: commitMs, n: value(2 * k), p: value(2 * k + 1),
      })));
    }).catch((e: Error) => this.#fail(e));
  }

  async publish(schema: string, table: string): Promise<void> {
    return publishTable(await this.#adminClient(), this.name, schema, table);
  }

  async unpublish(schema: string, table: string): Promise<void> {
    return unpublishTable(await this.#adminClient(), this.name, schema, table);
  }

  #fail(err: Error): void {
    if (this.#stopped) return;
    void this.stop();
    this.hooks.onLost(err);
  }

  /** Ends the walsender session, then drops the slot and the publication. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#replication?.end().catch(() => undefined);
    this.#replication = null;
    try {
      const admin = await this.#adminClient();
      await dropSlot(admin, this.name);
      await dropPublication(admin, this.name);
      await admin.end();
    } catch {
      // the database is unreachable: the sweep drops them once this replica's heartbeat is gone
    }
  }
}

/** A key-only old tuple holds nulls besides the key, and a TOASTed value is never null: those are not taken. */
function withUnchanged(next: Tuple, prev: Tuple | null): Tuple {
  if (!prev) return next;
  const out = { ...next };
  for (const [k, v] of Object.entries(prev)) if (!(k in out) && v !== null) out[k] = v;
  return out;
}

/** An update that kept its key sends no old tuple: its key is the new row's. */
function keyOf(rel: Relation, next: Tuple): Tuple {
  return Object.fromEntries(rel.columns.filter((c) => c.key && c.name in next).map((c) => [c.name, next[c.name]]));
}

function withJson(rel: Relation, t: Tuple): Record<string, unknown> {
  const out: Record<string, unknown> = { ...t };
  for (const c of rel.columns) if (JSON_TYPES.has(c.typeOid) && typeof t[c.name] === 'string') out[c.name] = JSON.parse(t[c.name]!);
  return out;
}

/** Only the columns that were sent (not an unchanged TOASTed value, not a generated column). */
function sameKeys(row: Record<string, unknown>, sent: Tuple): Record<string, unknown> {
  return Object.fromEntries(Object.keys(sent).map((k) => [k, row[k]]));
}
