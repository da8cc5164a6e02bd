// The wire of a logical replication stream: the CopyData frames a walsender sends (XLogData, keepalive), the
// standby status update we answer with, and the pgoutput (protocol version 1) messages inside XLogData. Only what
// change capture needs is decoded: Begin, Relation, Insert, Update, Delete, Commit; anything else is skipped.

/** Microseconds between the Unix epoch and Postgres' (2000-01-01). */
const PG_EPOCH_US = 946_684_800_000_000n;

export type Frame =
  | { kind: 'data'; end: bigint; body: Buffer }
  | { kind: 'keepalive'; end: bigint; replyNow: boolean };

export function parseFrame(buf: Buffer): Frame | null {
  if (buf[0] === 0x77) return { kind: 'data', end: buf.readBigUInt64BE(9), body: buf.subarray(25) }; // 'w'
  if (buf[0] === 0x6b) return { kind: 'keepalive', end: buf.readBigUInt64BE(1), replyNow: buf[17] === 1 }; // 'k'
  return null;
}

/** 'r': everything up to `lsn` is written, flushed and applied here (the slot may let that WAL go). */
export function standbyStatus(lsn: bigint): Buffer {
  const b = Buffer.alloc(34);
  b[0] = 0x72;
  b.writeBigUInt64BE(lsn, 1);
  b.writeBigUInt64BE(lsn, 9);
  b.writeBigUInt64BE(lsn, 17);
  b.writeBigInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_US, 25);
  b[33] = 0;
  return b;
}

export interface Relation {
  id: number;
  schema: string;
  table: string;
  columns: { name: string; key: boolean; typeOid: number }[];
}

/** A tuple's column values as text by column name; an unchanged TOASTed value (not sent) is left out. */
export type Tuple = Record<string, string | null>;

export type Message =
  | { tag: 'begin'; commitMs: number }
  | { tag: 'commit'; end: bigint }
  | { tag: 'relation'; relation: Relation }
  | { tag: 'insert'; relId: number; next: Tuple }
  | { tag: 'update'; relId: number; prev: Tuple | null; next: Tuple }
  | { tag: 'delete'; relId: number; prev: Tuple }
  | { tag: 'other' };

class Reader {
  pos = 0;
  constructor(readonly b: Buffer) {}
  u8 = () => this.b[this.pos++];
  i16 = () => ((this.pos += 2), this.b.readInt16BE(this.pos - 2));
  i32 = () => ((this.pos += 4), this.b.readInt32BE(this.pos - 4));
  u32 = () => ((this.pos += 4), this.b.readUInt32BE(this.pos - 4));
  u64 = () => ((this.pos += 8), this.b.readBigUInt64BE(this.pos - 8));
  i64 = () => ((this.pos += 8), this.b.readBigInt64BE(this.pos - 8));
  str(): string {
    const end = this.b.indexOf(0, this.pos);
    const s = this.b.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
}

function tuple(r: Reader, rel: Relation): Tuple {
  const n = r.i16();
  const out: Tuple = {};
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    const name = rel.columns[i]?.name ?? `#${i}`;
    if (kind === 0x6e) out[name] = null; // 'n'
    else if (kind === 0x74 || kind === 0x62) { // 't' text, 'b' binary (not requested)
      const len = r.i32();
      out[name] = r.b.toString('utf8', r.pos, r.pos + len);
      r.pos += len;
    } // 'u': unchanged TOAST, not sent
  }
  return out;
}

/** Decodes one pgoutput message; `relations` resolves the relation ids of row messages (sent before first use). */
export function parseMessage(body: Buffer, relations: Map<number, Relation>): Message {
  const r = new Reader(body);
  const tag = String.fromCharCode(r.u8());
  const rel = () => {
    const id = r.u32();
    const found = relations.get(id);
    if (!found) throw new Error(`pgoutput: row for unknown relation ${id}`);
    return found;
  };
  switch (tag) {
    case 'B': {
      r.u64(); // final LSN
      return { tag: 'begin', commitMs: Number((r.i64() + PG_EPOCH_US) / 1000n) };
    }
    case 'C': {
      r.u8();
      r.u64(); // commit LSN
      return { tag: 'commit', end: r.u64() };
    }
    case 'R': {
      const id = r.u32();
      const schema = r.str() || 'pg_catalog';
      const table = r.str();
      r.u8(); // replica identity
      const n = r.i16();
      const columns: Relation['columns'] = [];
      for (let i = 0; i < n; i++) {
        const key = (r.u8() & 1) === 1;
        const name = r.str();
        const typeOid = r.u32();
        r.i32(); // typmod
        columns.push({ name, key, typeOid });
      }
      return { tag: 'relation', relation: { id, schema, table, columns } };
    }
    case 'I': {
      const relation = rel();
      r.u8(); // 'N'
      return { tag: 'insert', relId: relation.id, next: tuple(r, relation) };
    }
    case 'U': {
      const relation = rel();
      let kind = r.u8();
      let prev: Tuple | null = null;
      if (kind === 0x4b || kind === 0x4f) { // 'K' key only, 'O' whole old row (REPLICA IDENTITY FULL)
        prev = tuple(r, relation);
        kind = r.u8();
      }
      return { tag: 'update', relId: relation.id, prev, next: tuple(r, relation) };
    }
    case 'D': {
      const relation = rel();
      r.u8(); // 'K' or 'O'
      return { tag: 'delete', relId: relation.id, prev: tuple(r, relation) };
    }
    default:
      return { tag: 'other' };
  }
}
