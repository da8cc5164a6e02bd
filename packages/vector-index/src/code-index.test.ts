// The in-process code index against a brute-force Hamming ranking, and its byte layout against Postgres'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absorb, emptySet, nearest, packBits, wordsOf } from './code-index.js';

function rng(seed: number) {
  return () => ((seed = Math.imul(seed ^ (seed >>> 15), 2246822507) + 0x6d2b79f5 >>> 0) / 2 ** 32);
}
const bitsOf = (r: () => number, n: number) => Array.from({ length: n }, () => (r() > 0.5 ? '1' : '0')).join('');
/** what varbit_send gives: a 4-byte big-endian bit length, then the packed bits */
const sent = (bits: string) => Buffer.concat([Buffer.from([0, 0, (bits.length >> 8) & 255, bits.length & 255]), Buffer.from(packBits(bits))]);
const hamming = (a: string, b: string) => [...a].reduce((n, c, i) => n + (c === b[i] ? 0 : 1), 0);

test('nearest finds the near codes among random ones, in brute-force order', () => {
  const r = rng(7);
  const dims = 1536;
  const flip = (c: string, p: number) => [...c].map((x) => (r() < p ? (x === '1' ? '0' : '1') : x)).join('');
  const base = bitsOf(r, dims);
  // 30 neighbours (15% of the bits flipped) hidden among 2,000 random codes
  const codes = [...Array.from({ length: 30 }, () => flip(base, 0.15)), ...Array.from({ length: 2000 }, () => bitsOf(r, dims))];
  const set = emptySet(dims);
  absorb(set, codes.map((c, i) => ({ id: `m${i}`, code: sent(c) })));
  const query = flip(base, 0.05);
  const got = nearest(set, wordsOf(packBits(query), set.words), 100);
  assert.equal(got.length, 100);
  const exact = codes.map((c, i) => ({ id: `m${i}`, d: hamming(c, query) })).sort((a, b) => a.d - b.d || a.id.localeCompare(b.id));
  assert.deepEqual(new Set(got.slice(0, 30)), new Set(exact.slice(0, 30).map((e) => e.id)));
  assert.ok(got.slice(0, 30).every((id) => Number(id.slice(1)) < 30));
});

test('absorb replaces an updated code in place and packs bits as Postgres does', () => {
  const set = emptySet(64);
  absorb(set, [{ id: 'a', code: sent('1'.repeat(64)) }, { id: 'b', code: sent('0'.repeat(64)) }]);
  absorb(set, [{ id: 'a', code: sent('0'.repeat(63) + '1') }]);
  assert.deepEqual(set.ids, ['a', 'b']);
  assert.deepEqual(nearest(set, wordsOf(packBits('0'.repeat(64)), 2), 2), ['b', 'a']);
  assert.deepEqual([...wordsOf(packBits(`1${'0'.repeat(31)}${'0'.repeat(31)}1`), 2)], [0x80000000, 1]);
});
