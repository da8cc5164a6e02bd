// An in-process index of the sign codes of a large project's memories, so a search need not scan 100k rows in
// Postgres: a first pass on the codes' first 256 bits, a second on the whole code for the best few thousand,
// then Postgres applies the filters (and RLS) to the survivors and the service rescores them exactly.
// The codes are refreshed before each use from the rows written since the last read (see db/code-index.ts);
// deleted memories linger until the next rebuild, harmlessly: Postgres no longer admits them.
import { LRUCache } from 'lru-cache';

const PREFIX_WORDS = 8;

export interface CodeSet {
  words: number;
  ids: string[];
  /** the first PREFIX_WORDS words of each code, contiguous (the first pass reads only these) */
  head: Uint32Array;
  /** the remaining words of each code */
  tail: Uint32Array;
  slot: Map<string, number>;
  watermark: string | null;
  builtAt: number;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** the code bytes (most significant bit first, as Postgres stores bit strings) as 32-bit words */
export function wordsOf(bytes: Uint8Array, words: number): Uint32Array {
  const out = new Uint32Array(words);
  for (let i = 0; i < bytes.length; i++) out[i >>> 2] |= bytes[i] << (24 - 8 * (i & 3));
  return out;
}

export function packBits(bits: string): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits.charCodeAt(i) === 49) out[i >>> 3] |= 0x80 >>> (i & 7);
  return out;
}

const headWords = (words: number) => Math.min(PREFIX_WORDS, words);

/** the prefix distances of the last nearest() call, reused (a search allocates no 100,000-entry array) */
let scratch = new Uint16Array(0);

export function emptySet(bits: number): CodeSet {
  const words = Math.ceil(bits / 32);
  return { words, ids: [], head: new Uint32Array(0), tail: new Uint32Array(0), slot: new Map(), watermark: null, builtAt: Date.now() };
}

/** adds or replaces codes (an updated memory keeps its slot); the arrays grow by doubling, so refreshes stay cheap */
export function absorb(set: CodeSet, rows: { id: string; code: Buffer }[]): void {
  const hw = headWords(set.words);
  const tw = set.words - hw;
  const fresh = rows.filter((r) => !set.slot.has(r.id)).length;
  const needed = set.ids.length + fresh;
  if (needed * hw > set.head.length) {
    const capacity = Math.max(needed, Math.ceil(set.ids.length * 1.5), 1024);
    const head = new Uint32Array(capacity * hw);
    head.set(set.head);
    const tail = new Uint32Array(capacity * tw);
    tail.set(set.tail);
    set.head = head;
    set.tail = tail;
  }
  for (const r of rows) {
    let i = set.slot.get(r.id);
    if (i === undefined) {
      i = set.ids.length;
      set.ids.push(r.id);
      set.slot.set(r.id, i);
    }
    const w = wordsOf(r.code.subarray(4), set.words);
    set.head.set(w.subarray(0, hw), i * hw);
    set.tail.set(w.subarray(hw), i * tw);
  }
}

/**
 * ids ordered by Hamming distance to the query code: every code's distance on its first PREFIX_WORDS words, then
 * the whole distance for those of the best `keep` by that prefix (all tied at the cutoff included); the best `keep`
 * of those by whole distance, ties in slot order.
 */
export function nearest(set: CodeSet, query: Uint32Array, keep: number): string[] {
  const n = set.ids.length;
  const hw = headWords(set.words);
  const tw = set.words - hw;
  const { head, tail } = set;
  if (scratch.length < n) scratch = new Uint16Array(Math.ceil(n * 1.25));
  const first = scratch; // every entry below n is written before it is read
  const histogram = new Uint32Array(hw * 32 + 1);
  if (hw === PREFIX_WORDS) {
    const [q0, q1, q2, q3, q4, q5, q6, q7] = query;
    for (let i = 0, o = 0; i < n; i++, o += PREFIX_WORDS) {
      const d = popcount(head[o] ^ q0) + popcount(head[o + 1] ^ q1) + popcount(head[o + 2] ^ q2) + popcount(head[o + 3] ^ q3)
        + popcount(head[o + 4] ^ q4) + popcount(head[o + 5] ^ q5) + popcount(head[o + 6] ^ q6) + popcount(head[o + 7] ^ q7);
      first[i] = d;
      histogram[d]++;
    }
  } else {
    for (let i = 0, o = 0; i < n; i++, o += hw) {
      let d = 0;
      for (let j = 0; j < hw; j++) d += popcount(head[o + j] ^ query[j]);
      first[i] = d;
      histogram[d]++;
    }
  }
  let cutoff = 0;
  let picked = 0;
  for (; cutoff < histogram.length && picked < keep; cutoff++) picked += histogram[cutoff];
  const index = new Uint32Array(picked);
  const distance = new Uint16Array(picked);
  const counts = new Uint32Array(set.words * 32 + 2);
  for (let i = 0, k = 0; i < n; i++) {
    if (first[i] >= cutoff) continue;
    let d = first[i];
    for (let j = 0, o = i * tw; j < tw; j++) d += popcount(tail[o + j] ^ query[hw + j]);
    index[k] = i;
    distance[k++] = d;
    counts[d + 1]++;
  }
  // counting sort by distance (distances are small integers), stable: slot order within a distance
  for (let d = 1; d < counts.length; d++) counts[d] += counts[d - 1];
  const order = new Uint32Array(picked);
  for (let k = 0; k < picked; k++) order[counts[distance[k]]++] = index[k];
  const out = new Array<string>(Math.min(keep, picked));
  for (let k = 0; k < out.length; k++) out[k] = set.ids[order[k]];
  return out;
}

export class CodeIndex {
  readonly #sets: LRUCache<string, CodeSet>;

  constructor(maxVectors: number) {
    this.#sets = new LRUCache({ maxSize: Math.max(1, maxVectors), sizeCalculation: (s) => Math.max(1, s.ids.length) });
  }

  get(key: string): CodeSet | undefined {
    return this.#sets.get(key);
  }

  set(key: string, set: CodeSet): void {
    this.#sets.set(key, set);
  }

  drop(prefix: string): void {
    for (const k of [...this.#sets.keys()]) if (k.startsWith(prefix)) this.#sets.delete(k);
  }
}
