// The project's memory count (tenant migration 0017) against real Postgres on a scratch project database: whatever
// writes memories (one row or many a statement, deletes, a rolled-back insert, a truncate), the count is count(*);
// many deltas fold into one without changing it, two folds at once included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { withTransaction } from '@basalt/db';
import { testDatabase } from '@basalt/testkit';
import { countAllMemories } from './memories.js';

const db = testDatabase('basalt_memory_count_test');

const inTx = <T>(fn: (tx: pg.PoolClient) => Promise<T>) => withTransaction(db.pool, fn);

const insert = (texts: string[]) =>
  db.pool.query(`insert into memory.memories (memory, hash, user_id) select t, md5(t), 'u' from unnest($1::text[]) t`, [texts]);

async function assertCounted(what: string): Promise<number> {
  const { rows } = await db.pool.query('select count(*)::int as n from memory.memories');
  assert.equal(await inTx(countAllMemories), rows[0].n, what);
  return rows[0].n;
}

test('the count follows inserts, deletes, a rollback and a truncate', async () => {
  await assertCounted('empty');
  await insert(['a', 'b', 'c']);
  await insert(['d']);
  assert.equal(await assertCounted('four inserted in two statements'), 4);
  await db.pool.query(`delete from memory.memories where memory in ('a', 'b')`);
  assert.equal(await assertCounted('two deleted in one statement'), 2);
  await assert.rejects(inTx(async (tx) => {
    await tx.query(`insert into memory.memories (memory, hash) values ('e', md5('e'))`);
    throw new Error('rolled back');
  }));
  assert.equal(await assertCounted('a rolled-back insert'), 2);
  await db.pool.query('delete from memory.memories where false');
  await db.pool.query('truncate memory.memories cascade');
  assert.equal(await assertCounted('truncated'), 0);
  await insert(['f']);
  assert.equal(await assertCounted('after the truncate'), 1);
});

test('past 256 deltas the count folds them into one row; two folds at once keep the sum', async () => {
  await db.pool.query('truncate memory.memories cascade');
  for (let i = 0; i < 300; i++) await insert([`fold ${i}`]);
  const deltas = async () => (await db.pool.query('select count(*)::int as n from memory.count_deltas')).rows[0].n as number;
  assert.ok((await deltas()) >= 300);
  assert.equal(await assertCounted('before the fold'), 300);
  assert.equal(await deltas(), 1, 'folded into one row');
  assert.equal(await assertCounted('after the fold'), 300);

  for (let i = 0; i < 300; i++) await insert([`again ${i}`]);
  await Promise.all([inTx(countAllMemories), inTx(countAllMemories), insert(['during the folds'])]);
  assert.equal(await assertCounted('after two folds at once'), 601);
});
