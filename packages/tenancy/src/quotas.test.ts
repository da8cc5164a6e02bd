// quotasFrom reads a stored quota document as services see it; capped combines a service's own limit with a quota.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capped, QUOTA_NAMES, quotasFrom, UNLIMITED } from './quotas.js';

test('quotasFrom: every name present, numbers kept, anything else (missing, negative, text, NaN) unlimited', () => {
  const q = quotasFrom({ db_bytes: 1024, storage_bytes: -1, max_object_bytes: '50', db_connections: Number.NaN, memory_count: 0, extra: 5 });
  assert.deepEqual(Object.keys(q).sort(), [...QUOTA_NAMES].sort());
  assert.equal(q.db_bytes, 1024);
  assert.equal(q.memory_count, 0);
  assert.equal(q.storage_bytes, null);
  assert.equal(q.max_object_bytes, null);
  assert.equal(q.db_connections, null);
  assert.ok(Object.isFrozen(q));
  assert.deepEqual(quotasFrom(null), UNLIMITED);
});

test('capped: the smaller of the two, the service limit alone when the plan sets none', () => {
  assert.equal(capped(5000, null), 5000);
  assert.equal(capped(5000, 100), 100);
  assert.equal(capped(30, 100), 30);
  assert.equal(capped(30, 0), 0);
});
