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
  codes: Uint32Array;
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

export function emptySet(bits: number): CodeSet {
  return { words: Math.ceil(bits / 32), ids: [], codes: new Uint32Array(0), slot: new Map(), watermark: null, builtAt: Date.now() };
}

/** adds or replaces codes (an updated memory keeps its slot) */
export function absorb(set: CodeSet, rows: { id: string; code: Buffer }[]): void {
  const fresh = rows.filter((r) => !set.slot.has(r.id)).length;
  if (fresh > 0) {
    const grown = new Uint32Array((set.ids.length + fresh) * set.words);
    grown.set(set.codes);
    set.codes = grown;
  }
  for (const r of rows) {
    let i = set.slot.get(r.id);
    if (i === undefined) {
      i = set.ids.length;
      set.ids.push(r.id);
      set.slot.set(r.id, i);
    }
    set.codes.set(wordsOf(r.code.subarray(4), set.words), i * set.words);
  }
}

/** ids ordered by Hamming distance to the query code: the best `keep` of the prefix pass, re-ranked on the whole code */
export function nearest(set: CodeSet, query: Uint32Array, keep: number): string[] {
  const n = set.ids.length;
  const w = set.words;
  const pw = Math.min(PREFIX_WORDS, w);
  const first = new Uint16Array(n);
  const histogram = new Uint32Array(pw * 32 + 1);
  for (let i = 0, o = 0; i < n; i++, o += w) {
    let d = 0;
    for (let j = 0; j < pw; j++) d += popcount(set.codes[o + j] ^ query[j]);
    first[i] = d;
    histogram[d]++;
  }
  let cutoff = 0;
  for (let seen = 0; cutoff < histogram.length && seen < keep; cutoff++) seen += histogram[cutoff];
  const picked: { i: number; d: number }[] = [];
  for (let i = 0; i < n; i++) {
    if (first[i] >= cutoff) continue;
    let d = 0;
    for (let j = 0, o = i * w; j < w; j++) d += popcount(set.codes[o + j] ^ query[j]);
    picked.push({ i, d });
  }
  picked.sort((a, b) => a.d - b.d);
  return picked.slice(0, keep).map((p) => set.ids[p.i]);
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
