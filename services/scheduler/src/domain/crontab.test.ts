import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextSlot, validateSchedule } from './crontab.js';

test('5- and 6-field schedules give the next UTC slot', () => {
  const at = new Date('2026-03-01T10:07:30.500Z');
  assert.equal(nextSlot('*/5 * * * *', at).toISOString(), '2026-03-01T10:10:00.000Z');
  assert.equal(nextSlot('* * * * * *', at).toISOString(), '2026-03-01T10:07:31.000Z');
  assert.equal(nextSlot('0 0 9 * * 1', at).toISOString(), '2026-03-02T09:00:00.000Z');
});

for (const bad of ['', '* * * *', '* * * * * * *', '61 * * * *', 'every minute', '* * 32 * *', '*/0 * * * *']) {
  test(`refuses the schedule "${bad}"`, () => assert.throws(() => validateSchedule(bad), /Invalid crontab/));
}
