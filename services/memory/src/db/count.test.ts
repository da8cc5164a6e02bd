// The project's memory count (tenant migration 0017) against real Postgres on a scratch project database: whatever
// writes memories (one row or many a statement, deletes, a rolled-back insert, a truncate), the count is count(*);
// the deltas stay few (every 64th write folds them), writers at once included.
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

test('the deltas stay few: every 64th write folds them, with writers at once too', async () => {
  await db.pool.query('truncate memory.memories cascade');
  const deltas = async () => (await db.pool.query('select count(*)::int as n from memory.count_deltas')).rows[0].n as number;
  for (let i = 0; i < 300; i++) await insert([`fold ${i}`]);
  assert.ok((await deltas()) <= 64, `${await deltas()} deltas after 300 writes`);
  assert.equal(await assertCounted('after 300 writes'), 300);

  // transactions writing at once, each held open a moment (a fold skips the rows another holds)
  await Promise.all(Array.from({ length: 130 }, (_, i) => inTx(async (tx) => {
    await tx.query(`insert into memory.memories (memory, hash) values ($1, md5($1))`, [`concurrent ${i}`]);
    await new Promise((r) => setTimeout(r, 5));
  })));
  assert.ok((await deltas()) <= 130, `${await deltas()} deltas`);
  assert.equal(await assertCounted('after writers at once'), 430);
});
