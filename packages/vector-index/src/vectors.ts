// The portable vector index: embeddings are kept as float32 bytes and as a sign-bit code. Postgres ranks
// candidates by the Hamming distance of the codes (bit_count of the XOR), the service rescores them by cosine.
export function normalize(v: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  const out = new Float32Array(v.length);
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

export const toBytes = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

export function fromBytes(b: Buffer): Float32Array {
  // copy: a pg Buffer may be a view at an offset that is not 4-aligned
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/** the sign bits as a bit-string literal Postgres reads as bit varying */
export function signCode(v: Float32Array): string {
  const out = Buffer.allocUnsafe(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] > 0 ? 49 : 48; // '1' : '0'
  return out.toString('latin1');
}

/** both normalized: the dot product is the cosine */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** 1 − cosine similarity, as pgvector's <=> answers it (1 when either vector is all zeros) */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 1 : 1 - ab / Math.sqrt(aa * bb);
}

/** the L2 distance, as pgvector's <-> answers it */
export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}
