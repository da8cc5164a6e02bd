// valueKey must agree with valuesEqual on every pair, or a ValueSet (distinct, $addToSet, $lookup) would keep two
// values MongoDB calls equal, or drop one it calls different.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Binary, BSONRegExp, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { compareValues, valueKey, valuesEqual, ValueSet } from './compare.js';

const id = new ObjectId();
const values: unknown[] = [
  1, new Int32(1), new Double(1), Long.fromNumber(1), 0, -0, 1.5, Number.NaN, new Double(Number.NaN), '1', '', 'a,b', '"a"', null, undefined, true, false,
  { a: 1 }, { a: new Int32(1) }, { b: 1, a: 1 }, { a: 1, b: 1 }, { a: 1, b: undefined }, { a: { b: [1, 'x'] } }, { a: { b: [new Long(1), 'x'] } },
  [], [1], [new Double(1)], [1, 2], [[1], 2], ['1', 2], [{ a: 1 }],
  id, new ObjectId(id.toHexString()), new ObjectId(), new Date(5), new Date(5), new Date(6),
  new Binary(Buffer.from('ab')), new Binary(Buffer.from('ab')), new Binary(Buffer.from('ac')),
  new Timestamp({ t: 1, i: 2 }), new Timestamp({ t: 1, i: 2 }), new Timestamp({ t: 1, i: 3 }),
  /a/, new BSONRegExp('b', 'i'), new MinKey(), new MaxKey(),
];

test('two values share a key exactly when valuesEqual says they are equal', () => {
  for (const a of values) {
    for (const b of values) {
      assert.equal(valueKey(a) === valueKey(b), valuesEqual(a, b), `${valueKey(a)} / ${valueKey(b)}`);
    }
  }
});

test('a ValueSet keeps the first of equal values, in the order first added', () => {
  const s = new ValueSet();
  for (const v of [2, new Int32(1), 'x', new Double(2), 1, { a: 1 }, { a: new Int32(1) }, 'x']) s.add(v);
  assert.deepEqual(s.values(), [2, new Int32(1), 'x', { a: 1 }]);
});

test('strings compare by code point, as MongoDB and a C.UTF-8 database do, not by UTF-16 unit', () => {
  const sorted = ['', 'A', 'B', 'Z', 'a', 'ab', 'b', 'é', '\u4e2d', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1f600}', '\u{1f600}a', '\u{10ffff}'];
  const shuffled = [...sorted].reverse();
  shuffled.sort(compareValues);
  assert.deepEqual(shuffled, sorted);
  // by their UTF-8 bytes, which is code point order
  const bytes = [...sorted].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual(bytes, sorted);
  assert.equal(compareValues({ '\uffff': 1 }, { '\u{1f600}': 1 }), -1, 'field names too');
});
