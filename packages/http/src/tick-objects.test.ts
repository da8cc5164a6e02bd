import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pinTickObjectShape, tickObjectPinned } from './tick-objects.js';

test('one tick object is held, once per process; ticks queued after it run with their arguments', async () => {
  assert.equal(tickObjectPinned(), false);
  pinTickObjectShape();
  assert.equal(tickObjectPinned(), true);
  pinTickObjectShape(); // a second serve() in the same process holds nothing more
  const ran = await new Promise<number[]>((resolve) => process.nextTick((a: number, b: number) => resolve([a, b]), 1, 2));
  assert.deepEqual(ran, [1, 2]);
});
