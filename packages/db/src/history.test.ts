// pruneHistory against real Postgres: age and per-owner count limits, in batches, newest rows kept.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createPool } from './pool.js';
import { pruneHistory, startHistoryPruner, type HistoryTable } from './history.js';

const url = process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const pool = createPool(url, { max: 2 });
const name = `history_test_${randomBytes(4).toString('hex')}`;
const table: HistoryTable = { table: `public.${name}`, per: 'owner', time: 'created_at', key: 'id', maxAgeMs: 3_600_000, keep: 50 };

before(async () => {
  await pool.query(`create table ${name} (id bigint generated always as identity primary key, owner text not null, created_at timestamptz not null)`);
});
after(async () => {
  await pool.query(`drop table if exists ${name}`);
  await pool.end();
});

const insert = (owner: string, count: number, age: string) =>
  pool.query(`insert into ${name} (owner, created_at) select $1, now() - $2::interval from generate_series(1, $3)`, [owner, age, count]);
const counts = async () =>
  Object.fromEntries((await pool.query<{ owner: string; n: number }>(`select owner, count(*)::int as n from ${name} group by owner`)).rows.map((r) => [r.owner, r.n]));

test('rows older than the age limit go, and each owner keeps at most `keep` of its newest rows', async () => {
  await insert('old', 30, '2 hours');
  await insert('busy', 1_234, '1 minute');
  await insert('quiet', 10, '1 minute');
  const newest = (await pool.query<{ id: string }>(`select id from ${name} where owner = 'busy' order by id desc limit 50`)).rows.map((r) => r.id);
  const removed = await pruneHistory(pool, table, { batch: 100, pauseMs: 0 });
  assert.equal(removed, 30 + 1_234 - 50);
  assert.deepEqual(await counts(), { busy: 50, quiet: 10 });
  const kept = (await pool.query<{ id: string }>(`select id from ${name} where owner = 'busy' order by id desc`)).rows.map((r) => r.id);
  assert.deepEqual(kept, newest, 'the newest rows are the ones kept');
  assert.equal(await pruneHistory(pool, table), 0, 'a second pass finds nothing to do');
});

test('the pruner runs on its interval and stops cleanly', async () => {
  await insert('late', 80, '1 minute');
  const errors: Error[] = [];
  const pruner = startHistoryPruner(pool, [table], { intervalMs: 50, onError: (e) => errors.push(e) });
  for (let i = 0; i < 100 && (await counts()).late !== 50; i++) await new Promise((r) => setTimeout(r, 50));
  await pruner.stop();
  assert.equal((await counts()).late, 50);
  assert.deepEqual(errors, []);
});
