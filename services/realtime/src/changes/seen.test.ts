import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeenChanges } from './seen.js';

test('records changes in any order as runs, and says which it has', () => {
  const s = new SeenChanges(10, 0);
  for (const id of [11, 12, 13, 15, 14, 20, 18, 19, 17, 16]) assert.equal(s.add(id), true, `add ${id}`);
  assert.equal(s.runs, 1);
  assert.equal(s.add(13), false, 'twice is not new');
  for (const id of [30, 25, 27, 26]) s.add(id);
  assert.equal(s.runs, 3); // 11-20, 25-27, 30
  assert.deepEqual([24, 25, 27, 28, 29, 30, 31].map((id) => s.has(id)), [false, true, true, false, false, true, false]);
  s.add(28);
  s.add(29);
  assert.equal(s.runs, 2);
  s.add(21);
  s.add(23);
  s.add(22);
  s.add(24);
  assert.equal(s.runs, 1);
});

test('a floor is the highest number received that long ago; old samples and runs are forgotten', () => {
  const s = new SeenChanges(100, 0, 10_000);
  assert.equal(s.floor(60_000, 0), 100);
  assert.equal(s.reaches(10_000, 5_000), false);
  // one change a second, a rolled-back one between each: a run per change
  for (let t = 1; t <= 20; t++) {
    s.add(100 + 2 * t);
    s.sample(t * 1000);
  }
  assert.equal(s.floor(5_000, 20_000), 130);
  assert.equal(s.floor(60_000, 20_000), 120, 'samples older than keepMs are gone');
  assert.equal(s.has(110), false, 'runs below the oldest sample are forgotten');
  assert.equal(s.has(120), true);
  assert.equal(s.runs, 11);
  assert.equal(s.reaches(10_000, 20_000), true);
});
