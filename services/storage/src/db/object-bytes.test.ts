// The project's objects' total size (tenant migration 0018) against real Postgres on a scratch project database:
// whatever writes objects (many a statement, a size changed, a move, a delete, a rollback, a truncate, metadata
// without a numeric size), the total is the sum of the objects' sizes; the deltas stay few.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { withTransaction } from '@basalt/db';
import { testDatabase } from '@basalt/testkit';
import { bytesBesides } from './object-bytes.js';

const db = testDatabase('basalt_storage_bytes_test');
const buckets = () => db.pool.query(`insert into storage.buckets (id, name) values ('a', 'a'), ('b', 'b') on conflict do nothing`);

const inTx = <T>(fn: (c: pg.PoolClient) => Promise<T>) => withTransaction(db.pool, fn);
const put = (rows: [string, string, unknown][]) =>
  db.pool.query(`insert into storage.objects (bucket_id, name, metadata) select b, n, m from unnest($1::text[], $2::text[], $3::jsonb[]) as r(b, n, m)`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => JSON.stringify(r[2]))]);

/** the total besides bucket/name, checked against summing the objects themselves */
async function assertTotal(what: string, bucket = 'none', name = 'none'): Promise<number> {
  const { rows } = await db.pool.query(`select coalesce(sum((metadata ->> 'size')::float8) filter (where jsonb_typeof(metadata -> 'size') = 'number'
    and not (bucket_id = $1 and name = $2)), 0)::float8 as n from storage.objects`, [bucket, name]);
  assert.equal(await inTx((c) => bytesBesides(c, bucket, name)), rows[0].n, what);
  return rows[0].n;
}

test('the total follows inserts, size changes, moves, deletes, a rollback and a truncate', async () => {
  await buckets();
  await assertTotal('empty');
  await put([['a', 'x', { size: 100 }], ['a', 'y', { size: 20 }], ['b', 'z', { size: 3 }]]);
  assert.equal(await assertTotal('three objects in one statement'), 123);
  assert.equal(await assertTotal('besides the one an upload replaces', 'a', 'x'), 23);
  await db.pool.query(`update storage.objects set metadata = '{"size": 1000}' where name = 'x'`);
  assert.equal(await assertTotal('a size changed'), 1023);
  await db.pool.query(`update storage.objects set bucket_id = 'b', name = 'moved' where name = 'y'`);
  assert.equal(await assertTotal('a move'), 1023);
  await put([['a', 'no-size', { mimetype: 'text/plain' }], ['a', 'text-size', { size: '12' }]]);
  assert.equal(await assertTotal('metadata without a numeric size counts nothing'), 1023);
  await db.pool.query(`delete from storage.objects where bucket_id = 'b'`);
  assert.equal(await assertTotal('two deleted'), 1000);
  await assert.rejects(inTx(async (c) => {
    await c.query(`insert into storage.objects (bucket_id, name, metadata) values ('a', 'gone', '{"size": 5}')`);
    throw new Error('rolled back');
  }));
  assert.equal(await assertTotal('a rolled-back insert'), 1000);
  await db.pool.query('truncate storage.objects cascade');
  assert.equal(await assertTotal('truncated'), 0);
});

test('the deltas stay few: every 64th write folds them', async () => {
  await buckets();
  await db.pool.query('truncate storage.objects cascade');
  for (let i = 0; i < 300; i++) await put([['a', `f${i}`, { size: i }]]);
  const { rows } = await db.pool.query('select count(*)::int as n from storage.size_deltas');
  assert.ok(rows[0].n <= 64, `${rows[0].n} deltas after 300 writes`);
  assert.equal(await assertTotal('after 300 writes'), (299 * 300) / 2);
});
