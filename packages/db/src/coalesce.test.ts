// coalesced() against real Postgres: how many statements run at once. Without growAfterMs a queue longer than a
// batch starts more (up to the pool's size) at once; with it, fast statements keep to `workers` connections in fuller
// batches, and slow ones get the pool's connections once a waiting input has waited that long, with no arrival to
// notice it.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { coalesced, type CoalesceOptions } from './coalesce.js';
import { createPool } from './pool.js';

const pool = createPool(process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', { max: 10 });
after(() => pool.end());

/** a coalesced sleep of `ms` per input, counting the statements in flight at once and the batches */
function sleeper(o: Omit<CoalesceOptions<number, number>, 'run'>) {
  const seen = { inFlight: 0, most: 0, batches: 0, starts: [] as number[] };
  const run = coalesced<number, number>({
    ...o,
    run: async (client: pg.PoolClient, batch: readonly number[]) => {
      seen.batches++;
      seen.starts.push(performance.now());
      seen.most = Math.max(seen.most, ++seen.inFlight);
      try {
        const ms = batch.reduce((a, b) => a + b, 0);
        await client.query('select pg_sleep($1)', [ms / 1000]);
        return [...batch];
      } finally {
        seen.inFlight--;
      }
    },
  });
  return { seen, run: (ms: number) => run(pool, ms) };
}

test('a burst of fast inputs: a queue longer than a batch starts more statements at once; with growAfterMs it keeps to `workers`', async () => {
  const eager = sleeper({ maxBatch: 8, workers: 2 });
  assert.deepEqual(await Promise.all(Array.from({ length: 80 }, () => eager.run(1))), Array(80).fill(1));
  assert.ok(eager.seen.most > 2, `statements at once: ${eager.seen.most}`);

  const patient = sleeper({ maxBatch: 8, workers: 2, growAfterMs: 1_000 });
  assert.deepEqual(await Promise.all(Array.from({ length: 80 }, () => patient.run(1))), Array(80).fill(1));
  assert.equal(patient.seen.most, 2);
  assert.ok(patient.seen.batches <= 12, `batches: ${patient.seen.batches}`);
});

test('slow inputs: once one has waited growAfterMs, more statements start, one per interval, up to the pool', async () => {
  // the pool's connections open beforehand, so that a statement starts as soon as it is called for
  await Promise.all(Array.from({ length: 10 }, () => pool.connect())).then((cs) => cs.forEach((c) => c.release()));
  const slow = sleeper({ maxBatch: 1, workers: 2, growAfterMs: 40 });
  const t0 = performance.now();
  // sixteen 500 ms statements queued at once, nothing after: two at first, the pool's ten from about 8 × 40 ms
  assert.deepEqual(await Promise.all(Array.from({ length: 16 }, () => slow.run(500))), Array(16).fill(500));
  const ms = performance.now() - t0;
  const third = slow.seen.starts.sort((a, b) => a - b)[2]! - t0;
  assert.ok(third >= 40, `a third statement started ${third.toFixed(0)} ms in, before anything had waited 40 ms`);
  assert.equal(slow.seen.most, 10);
  // two at a time would take 8 × 500 ms
  assert.ok(ms < 2_500, `took ${ms.toFixed(0)} ms`);
});
