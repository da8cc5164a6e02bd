// The plan of a shared round trip: reads with the same settings make them once, each read inside a savepoint of its
// own; reads with other settings keep theirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSteps } from './execute.js';

const settings = (sub: string) => ({ text: 'select set_config($1, $2, true)', values: ['request.jwt.claim.sub', sub] });
const main = (n: number) => ({ text: `select ${n}`, values: [] });

test('reads with the same settings make them once; the others keep their own', () => {
  const { steps, order, firstStepOf } = readSteps([
    { settings: settings('a'), main: main(0) },
    { settings: settings('b'), main: main(1) },
    { settings: settings('a'), main: main(2) },
  ]);
  assert.deepEqual(steps.map((s) => (s.values.length ? `settings ${s.values[1]}` : s.text) + (s.into === undefined ? '' : ` → ${s.into}`)), [
    'begin', 'savepoint basalt_read',
    'settings a', 'savepoint basalt_shared',
    'select 0 → 0', 'rollback to savepoint basalt_shared',
    'select 2 → 2', 'rollback to savepoint basalt_shared',
    'rollback to savepoint basalt_read',
    'settings b', 'select 1 → 1', 'rollback to savepoint basalt_read',
    'commit',
  ]);
  // read 0 owns the shared settings; a failure at read 2's statement is read 2's, at read 1's settings read 1's
  assert.deepEqual(order, [0, 2, 1]);
  assert.deepEqual(firstStepOf, [2, 6, 9]);
});
