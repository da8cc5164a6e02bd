// Open cursors of the wire protocol: the rest of a result, bound to the credential that opened it (getMore and
// killCursors from anyone else are refused), dropped after ten idle minutes.
import { randomBytes } from 'node:crypto';
import { BSON } from 'bson';
import type { Doc } from '../engine/values.js';

interface Cursor { owner: string; ns: string; docs: Doc[]; pos: number; touched: number }

const MAX_REPLY_BYTES = 16 * 1024 * 1024 - 64 * 1024;
const IDLE_MS = 10 * 60_000;

export class Cursors {
  readonly #open = new Map<bigint, Cursor>();
  readonly #timer = setInterval(() => this.#expire(), 60_000).unref();

  /** the first batch, and a cursor id (0n when exhausted) */
  open(owner: string, ns: string, docs: Doc[], batchSize: number | undefined, single: boolean): { batch: Doc[]; id: bigint } {
    const c: Cursor = { owner, ns, docs, pos: 0, touched: Date.now() };
    const batch = take(c, batchSize || 101);
    if (single || c.pos >= docs.length) return { batch, id: 0n };
    const id = randomBytes(8).readBigInt64LE() & 0x7fffffffffffffffn || 1n;
    this.#open.set(id, c);
    return { batch, id };
  }

  next(owner: string, id: bigint, batchSize: number | undefined): { batch: Doc[]; id: bigint; ns: string } | null {
    const c = this.#open.get(id);
    if (!c || c.owner !== owner) return null;
    const batch = take(c, batchSize || Number.MAX_SAFE_INTEGER);
    c.touched = Date.now();
    const done = c.pos >= c.docs.length;
    if (done) this.#open.delete(id);
    return { batch, id: done ? 0n : id, ns: c.ns };
  }

  kill(owner: string, id: bigint): boolean {
    const c = this.#open.get(id);
    if (!c || c.owner !== owner) return false;
    return this.#open.delete(id);
  }

  close() {
    clearInterval(this.#timer);
    this.#open.clear();
  }

  #expire() {
    const cutoff = Date.now() - IDLE_MS;
    for (const [id, c] of this.#open) if (c.touched < cutoff) this.#open.delete(id);
  }
}

/** removes and returns up to n documents from the front, keeping the batch under the reply size limit */
function take(c: Cursor, n: number): Doc[] {
  const out: Doc[] = [];
  let bytes = 0;
  while (c.pos < c.docs.length && out.length < n) {
    const size = BSON.calculateObjectSize(c.docs[c.pos]);
    if (out.length && bytes + size > MAX_REPLY_BYTES) break;
    bytes += size;
    out.push(c.docs[c.pos]);
    c.docs[c.pos++] = undefined as never; // let sent documents be collected
  }
  return out;
}
