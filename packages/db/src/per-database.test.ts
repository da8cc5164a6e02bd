// perDatabase's cadence: one run at a time per database, the interval a run asks for until the next, the default
// interval after a failure, databases independent of each other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { perDatabase } from './per-database.js';

const pool = () => ({}) as pg.Pool;
const settle = () => new Promise((r) => setImmediate(r));

test('a run sets the wait before the next; nudges meanwhile start nothing', async () => {
  const runs: number[] = [];
  let wait = 0;
  let release!: () => void;
  const job = perDatabase('test', 60_000, () => ({ n: 0 }), async (_pool, state) => {
    runs.push(++state.n);
    await new Promise<void>((r) => (release = r));
    return wait;
  }, { warn: () => undefined });
  const a = pool();
  job.nudge(a, 'a');
  job.nudge(a, 'a'); // still running
  assert.deepEqual(runs, [1]);
  release();
  await settle();
  job.nudge(a, 'a'); // the run asked for no wait
  assert.deepEqual(runs, [1, 2], 'the state is kept between runs');
  wait = 60_000;
  release();
  await settle();
  job.nudge(a, 'a'); // the run asked for a minute
  assert.deepEqual(runs, [1, 2]);
  job.nudge(pool(), 'b'); // another database is its own
  assert.deepEqual(runs, [1, 2, 1]);
});

test('a failed run is logged and waits the default interval', async () => {
  const warned: string[] = [];
  let runs = 0;
  const job = perDatabase('flaky', 60_000, () => null, async () => {
    runs++;
    throw new Error('boom');
  }, { warn: (_o, msg) => void warned.push(msg) });
  const a = pool();
  job.nudge(a, 'a');
  await settle();
  job.nudge(a, 'a');
  assert.equal(runs, 1);
  assert.deepEqual(warned, ['flaky failed']);
});

test('orAfterNudges cuts a wait short once that many requests have used the database, never while a run runs', async () => {
  let runs = 0;
  let release!: () => void;
  const job = perDatabase('busy', 1_000, () => null, async () => {
    runs++;
    await new Promise<void>((r) => (release = r));
    return 60_000;
  }, { warn: () => undefined }, { orAfterNudges: 5 });
  const a = pool();
  job.nudge(a, 'a');
  for (let i = 0; i < 10; i++) job.nudge(a, 'a'); // still running: nothing more
  assert.equal(runs, 1);
  release();
  await settle();
  // the run asked for a minute; five requests later it runs again all the same
  for (let i = 0; i < 4; i++) job.nudge(a, 'a');
  assert.equal(runs, 1);
  job.nudge(a, 'a');
  assert.equal(runs, 2);
});
