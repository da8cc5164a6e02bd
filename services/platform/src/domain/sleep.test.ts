import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idleProjects } from './sleep.js';

const at = (s: number) => s * 1000;

test('idleProjects: the plan limit wins, else the operator default; activity, creation and wake all count', () => {
  const now = at(10_000);
  const awake = [
    { ref: 'a', since: at(0), plan_sleep_after_s: 60 },        // idle since 9,000 s by activity: sleeps
    { ref: 'b', since: at(0), plan_sleep_after_s: 60 },        // active 30 s ago: stays
    { ref: 'c', since: at(9_990), plan_sleep_after_s: 60 },    // woken 10 s ago, no activity since: stays
    { ref: 'd', since: at(0), plan_sleep_after_s: null },      // no plan limit: the default (3,600 s) applies
    { ref: 'e', since: at(8_000), plan_sleep_after_s: null },  // 2,000 s idle < 3,600: stays
  ];
  const last = [at(1_000), at(9_970), null, null, null];
  assert.deepEqual(idleProjects(awake, last, 3_600, now), ['a', 'd']);
  // an operator default of 0 means never, unless the plan says otherwise
  assert.deepEqual(idleProjects(awake, last, 0, now), ['a']);
  // a plan limit of 0 is never too
  assert.deepEqual(idleProjects([{ ref: 'z', since: 0, plan_sleep_after_s: 0 }], [null], 60, now), []);
});
