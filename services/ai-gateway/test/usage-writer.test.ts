// The usage writer against the real control database: rows of a project deleted meanwhile, or naming a key that
// is gone, never hold the queue up, and a row the database refuses for its data is dropped alone, not its batch.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createProject, testEnv } from '@basalt/testkit';
import { keysDb } from '../src/db/keys.js';
import { usageDb, type UsageRecord } from '../src/db/usage.js';
import { startUsageWriter } from '../src/jobs/usage-writer.js';

const pool = new pg.Pool({ connectionString: testEnv().databaseUrl, max: 2 });
after(() => pool.end());

const row = (ref: string, over: Partial<UsageRecord> = {}): UsageRecord => ({
  ref, request_id: randomUUID(), key_id: null, principal: 'service_role', user_id: null, endpoint: 'chat', model: 'm', provider: 'p',
  upstream_model: 'm', input_tokens: 1, output_tokens: 2, cached_tokens: 0, cache_write_tokens: 0, cost_usd: 0.001, latency_ms: 5, ttft_ms: null,
  status: 200, error: null, stream: false, created_at: new Date(), ...over,
});

test('rows of a deleted project or key are skipped; a row refused for its data is dropped alone', async () => {
  const live = await createProject('usage-writer');
  const gone = await createProject('usage-writer-gone');
  await gone.remove();
  const errors: string[] = [];
  const writer = startUsageWriter(usageDb(pool), keysDb(pool), { batch: 100, flushMs: 60_000, maxPending: 1_000, onError: (err) => errors.push(err.message) });
  try {
    const kept = [row(live.ref), row(live.ref, { key_id: randomUUID() }), row(live.ref, { stream: true })];
    writer.push(kept[0]);
    writer.push(row(gone.ref));
    writer.push(kept[1]);
    writer.push(row(live.ref, { input_tokens: 2 ** 31 })); // out of range for integer: SQLSTATE 22003
    writer.push(kept[2]);
    await writer.flush();
    assert.equal(writer.pending, 0, 'nothing is left waiting');
    const { rows } = await pool.query<{ request_id: string; key_id: string | null }>(
      'select request_id, key_id from platform.ai_usage where ref = $1 order by id', [live.ref]);
    assert.deepEqual(rows.map((r) => r.request_id), kept.map((r) => r.request_id));
    assert.equal(rows[1].key_id, null, 'a key that no longer exists is written as null');
    assert.equal(errors.length, 1);
    assert.match(errors[0], /out of range/);
  } finally {
    await writer.stop();
    await live.remove();
  }
});
