// Seeded randomness for fuzz and property tests: a failing run names its seed, and BASALT_TEST_SEED=<seed> repeats
// exactly the same draws.

/** this run's seed: BASALT_TEST_SEED when set, otherwise a new one */
export const testSeed = (): number => Number(process.env.BASALT_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: numbers in [0, 1), the same sequence for the same seed */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** one of xs, drawn with next */
export const pick = <T>(next: () => number, xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
