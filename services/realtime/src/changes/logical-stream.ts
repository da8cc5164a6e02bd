// One logical replication stream of a project database: this stream's own publication (empty at first, tables
// are added while subscribed), a temporary pgoutput slot and the walsender connection streaming it. Each
// committed transaction comes out once, in commit order, as the Notes the trigger capture would have sent.
// Ending the stream ends the connection, which drops the slot: nothing is retained for an idle project.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  createTemporarySlot, dropPublication, publishTable, resetPublication, rowsAsJson, startReplicationSql, unpublishTable,
  type RowsOf,
} from '../db/publications.js';
import type { Note } from './deliver.js';
import { parseFrame, parseMessage, standbyStatus, type Relation, type Tuple } from './pgoutput.js';

const STATUS_EVERY_MS = 10_000;
const JSON_TYPES = new Set([114, 3802]);

interface Change {
  rel: Relation;
  o: Note['o'];
  next: Tuple | null;
  prev: Tuple | null;
}

export interface StreamHooks {
  /** a committed transaction's changes, in order (called in commit order, one transaction at a time) */
  onNotes: (notes: Note[]) => void;
  /** the stream broke (not by stop()) */
  onLost: (err: Error) => void;
}

export class LogicalStream {
  readonly name: string;
  readonly #relations = new Map<number, Relation>();
  #txn: { commitMs: number; changes: Change[] } | null = null;
  #seq = 0;
  #confirmed = 0n;
  #emitting: Promise<void> = Promise.resolve();
  #timer?: NodeJS.Timeout;
  #stopped = false;

  private constructor(private readonly admin: pg.Client, private readonly replication: pg.Client, namePrefix: string, private readonly hooks: StreamHooks) {
    this.name = `${namePrefix}${randomBytes(6).toString('hex')}`;
  }

  /** Connects, creates the publication then the slot (the slot's start is the first change captured), streams. */
  static async open(adminUrl: string, namePrefix: string, hooks: StreamHooks): Promise<LogicalStream> {
    const admin = new pg.Client({ connectionString: adminUrl, application_name: 'basalt-realtime-capture' });
    const replication = new pg.Client({ connectionString: adminUrl, replication: 'database', application_name: 'basalt-realtime-wal' } as pg.ClientConfig);
    const s = new LogicalStream(admin, replication, namePrefix, hooks);
    for (const c of [admin, replication]) {
      c.on('error', (err) => s.#fail(err));
      c.on('end', () => s.#fail(new Error('capture connection ended')));
    }
    try {
      await admin.connect();
      await replication.connect();
      await resetPublication(admin, s.name);
      await createTemporarySlot(replication, s.name);
      s.#start();
      return s;
    } catch (e) {
      await s.stop();
      throw e;
    }
  }

  #start(): void {
    const con = (this.replication as unknown as { connection: NodeJS.EventEmitter & { sendCopyFromChunk: (b: Buffer) => void } }).connection;
    con.on('copyData', (msg: { chunk: Buffer }) => {
      try {
        this.#onFrame(msg.chunk, con);
      } catch (e) {
        this.#fail(e as Error);
      }
    });
    // resolves only when streaming ends; its failure is the stream's
    this.replication.query(startReplicationSql(this.name, this.name)).then(() => this.#fail(new Error('replication ended')), (e: Error) => this.#fail(e));
    this.#timer = setInterval(() => this.#confirm(con), STATUS_EVERY_MS);
    this.#timer.unref();
  }

  #onFrame(buf: Buffer, con: { sendCopyFromChunk: (b: Buffer) => void }): void {
    const f = parseFrame(buf);
    if (!f) return;
    if (f.kind === 'keepalive') {
      // outside a transaction everything up to the server's position has been seen: the slot may move on
      if (!this.#txn && f.end > this.#confirmed) this.#confirmed = f.end;
      if (f.replyNow) this.#confirm(con);
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

  #confirm(con: { sendCopyFromChunk: (b: Buffer) => void }): void {
    if (!this.#stopped) con.sendCopyFromChunk(standbyStatus(this.#confirmed));
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
      const typed = await rowsAsJson(this.admin, [...groups.values()]).catch(() => null);
      const value = (o: number) => (tuples[o] ? sameKeys(typed?.get(o) ?? tuples[o]!, tuples[o]!) : null);
      this.hooks.onNotes(changes.map((ch, k) => ({
        i: ++this.#seq, s: ch.rel.schema, t: ch.rel.table, o: ch.o, c: commitMs, n: value(2 * k), p: value(2 * k + 1),
      })));
    }).catch((e: Error) => this.#fail(e));
  }

  publish(schema: string, table: string): Promise<void> {
    return publishTable(this.admin, this.name, schema, table);
  }

  unpublish(schema: string, table: string): Promise<void> {
    return unpublishTable(this.admin, this.name, schema, table);
  }

  #fail(err: Error): void {
    if (this.#stopped) return;
    void this.stop();
    this.hooks.onLost(err);
  }

  /** Ends the walsender session (its temporary slot goes with it), then drops the publication. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.replication.end().catch(() => undefined);
    await dropPublication(this.admin, this.name).catch(() => undefined);
    await this.admin.end().catch(() => undefined);
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
