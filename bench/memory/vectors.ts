// Deterministic 1,536-dimension embeddings for the memory benchmark, shared by the fake upstream and the bulk
// loader: a text about topic t is its topic's centre plus noise, so a question about a topic has true neighbours.
export const DIMS = 1536;
export const TOPICS = 1000;
export const WORDS = ['coffee', 'garden', 'piano', 'travel', 'budget', 'allergy', 'running', 'novel', 'python', 'sushi', 'cycling', 'museum',
  'camera', 'chess', 'yoga', 'jazz', 'hiking', 'startup', 'cooking', 'painting', 'soccer', 'podcast', 'violin', 'tennis', 'baking', 'sailing',
  'poetry', 'history', 'physics', 'gaming', 'fishing', 'climbing', 'knitting', 'dancing', 'theatre', 'cinema', 'skiing', 'surfing', 'archery', 'pottery'];

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

const centres = new Map<number, Float32Array>();
function centre(t: number): Float32Array {
  let c = centres.get(t);
  if (!c) {
    const r = rng(1_000_003 * (t + 1));
    c = Float32Array.from({ length: DIMS }, () => r());
    centres.set(t, c);
  }
  return c;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** the topic a text names as `topic<N>`, else one picked by its hash */
export function topicOf(text: string): number {
  const m = /topic(\d+)/.exec(text);
  return m ? Number(m[1]) % TOPICS : hash(text) % TOPICS;
}

// noise from a fixed pool, so a benchmark can generate 100,000 vectors in a second or two
const NOISE = Array.from({ length: 4096 }, (_, k) => {
  const r = rng(7_919 * (k + 1));
  return Float32Array.from({ length: DIMS }, () => 0.7 * r());
});

export function embed(text: string): Float32Array {
  const c = centre(topicOf(text));
  const h = hash(text);
  const a = NOISE[h % NOISE.length];
  const b = NOISE[(h >>> 12) % NOISE.length];
  const v = new Float32Array(DIMS);
  let norm = 0;
  for (let i = 0; i < DIMS; i++) {
    v[i] = c[i] + a[i] - 0.5 * b[i];
    norm += v[i] * v[i];
  }
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < DIMS; i++) v[i] *= inv;
  return v;
}

/** the sign bits as the bit-string text Postgres reads */
export function signBits(v: Float32Array): string {
  const b = Buffer.alloc(v.length);
  for (let i = 0; i < v.length; i++) b[i] = v[i] > 0 ? 49 : 48;
  return b.toString('latin1');
}

export function memoryText(i: number): string {
  const t = i % TOPICS;
  return `note ${i} on topic${t}: ${WORDS[i % WORDS.length]} and ${WORDS[(i * 7 + 3) % WORDS.length]}, ${WORDS[(i * 13 + 5) % WORDS.length]}`;
}
