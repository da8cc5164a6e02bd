import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Meter, type Batch } from './meter.js';

const HOUR = 3_600_000;

/** A writer that records batches and fails while `failing` is set. */
function recorder() {
  const batches: Batch[] = [];
  const state = { failing: false, calls: 0 };
  const write = async (b: Batch) => {
    state.calls++;
    if (state.failing) throw new Error('database away');
    batches.push(structuredClone(b));
  };
  const values = () => Object.fromEntries(batches.flatMap((b) => b.rows).map((r) => [`${r.hour}/${r.ref}/${r.service}/${r.metric}`, r.value]));
  return { batches, state, write, values };
}

test('counts add up per project, service and metric; peaks keep the highest level; each hour is its own row', async () => {
  const rec = recorder();
  let now = 10 * HOUR + 5;
  const meter = new Meter({ write: rec.write, now: () => now });
  meter.count('aaaa', 'rest', 'requests');
  meter.count('aaaa', 'rest', 'requests');
  meter.count('aaaa', 'rest', 'egress_bytes', 120);
  meter.count('bbbb', 'rest', 'requests', 3);
  meter.peak('aaaa', 'storage', 'storage_bytes', 500);
  meter.peak('aaaa', 'storage', 'storage_bytes', 200);
  now = 11 * HOUR;
  meter.count('aaaa', 'rest', 'requests');
  await meter.flush();
  assert.equal(rec.batches.length, 1);
  assert.deepEqual(rec.values(), {
    '10/aaaa/rest/requests': 2, '10/aaaa/rest/egress_bytes': 120, '10/bbbb/rest/requests': 3,
    '10/aaaa/storage/storage_bytes': 500, '11/aaaa/rest/requests': 1,
  });
  const peak = rec.batches[0].rows.find((r) => r.metric === 'storage_bytes');
  assert.equal(peak?.kind, 'max');
  assert.equal(rec.batches[0].rows.find((r) => r.metric === 'requests')?.kind, 'sum');
  assert.equal(meter.pendingKeys, 0);
});

test('values that are not positive finite numbers are ignored; sums are whole units when written', async () => {
  const rec = recorder();
  const meter = new Meter({ write: rec.write });
  for (const v of [0, -5, Number.NaN, Infinity]) meter.count('aaaa', 'functions', 'fn_duration_ms', v);
  meter.count('aaaa', 'functions', 'fn_duration_ms', 1.4);
  meter.count('aaaa', 'functions', 'fn_duration_ms', 1.4);
  meter.peak('aaaa', 'database', 'db_bytes', 0);
  await meter.flush();
  const rows = rec.batches[0].rows;
  assert.equal(rows.find((r) => r.metric === 'fn_duration_ms')?.value, 3);
  assert.equal(rows.find((r) => r.metric === 'db_bytes')?.value, 0, 'a level of zero is a fact worth recording');
  assert.equal(rows.length, 2);
});

test('a failed flush keeps its batch, same id, and sends it again before the counts that came in meanwhile', async () => {
  const rec = recorder();
  const errors: string[] = [];
  const meter = new Meter({ write: rec.write, onError: (e) => errors.push(e.message) });
  meter.count('aaaa', 'rest', 'requests', 5);
  rec.state.failing = true;
  await meter.flush();
  const tried = rec.state.calls;
  assert.deepEqual(errors, ['database away']);
  meter.count('aaaa', 'rest', 'requests', 2);
  assert.equal(meter.pendingKeys, 2, 'the unsent batch and the new count');
  await meter.flush();
  assert.equal(rec.batches.length, 0, 'still failing: nothing written, nothing lost');
  assert.equal(rec.state.calls, tried + 1, 'the new counts wait until the failed batch is through');
  rec.state.failing = false;
  await meter.flush();
  assert.equal(rec.batches.length, 2);
  assert.equal(rec.batches[0].rows[0].value, 5);
  assert.equal(rec.batches[1].rows[0].value, 2);
  assert.notEqual(rec.batches[0].id, rec.batches[1].id);
  assert.equal(meter.pendingKeys, 0);
});

test('memory is bounded: new keys beyond maxKeys are dropped while known keys keep counting', async () => {
  const rec = recorder();
  const meter = new Meter({ write: rec.write, maxKeys: 3 });
  for (const ref of ['a', 'b', 'c', 'd', 'e']) meter.count(ref, 'rest', 'requests');
  meter.count('a', 'rest', 'requests', 9);
  assert.equal(meter.pendingKeys, 3);
  await meter.flush();
  assert.deepEqual(rec.batches[0].rows.map((r) => [r.ref, r.value]), [['a', 10], ['b', 1], ['c', 1]]);
});

test('rows of a batch come sorted, so concurrent writers take row locks in the same order', async () => {
  const rec = recorder();
  const meter = new Meter({ write: rec.write });
  for (const ref of ['zz', 'mm', 'aa']) meter.count(ref, 'rest', 'requests');
  await meter.flush();
  assert.deepEqual(rec.batches[0].rows.map((r) => r.ref), ['aa', 'mm', 'zz']);
});

test('metering off records nothing and never writes', async () => {
  const rec = recorder();
  const meter = new Meter({ write: rec.write, enabled: false }).start();
  meter.count('aaaa', 'rest', 'requests');
  meter.peak('aaaa', 'storage', 'storage_bytes', 9);
  await meter.stop();
  assert.equal(meter.pendingKeys, 0);
  assert.equal(rec.state.calls, 0);
});

test('the timer flushes on its own, and stop() writes what is left', async () => {
  const rec = recorder();
  const meter = new Meter({ write: rec.write, intervalMs: 20 }).start();
  meter.count('aaaa', 'memory', 'memory_adds');
  const deadline = Date.now() + 10_000;
  while (rec.batches.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rec.batches.length, 1);
  meter.count('aaaa', 'memory', 'memory_searches');
  await meter.stop();
  assert.equal(rec.batches.at(-1)?.rows[0].metric, 'memory_searches');
  assert.equal(meter.pendingKeys, 0);
});
