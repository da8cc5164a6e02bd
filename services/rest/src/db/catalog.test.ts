// A function's own statement_timeout as the schema cache reads it (the request's deadline waits for it), and time
// settings in each form Postgres accepts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadCatalog, timeSettingMs } from './catalog.js';

const pool = new pg.Pool({ connectionString: process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', max: 1 });
const schema = `catalog_test_${randomBytes(4).toString('hex')}`;
after(async () => {
  await pool.query(`drop schema if exists ${schema} cascade`);
  await pool.end();
});

test('time settings in ms, with or without a unit', () => {
  assert.deepEqual(['4min', '30s', '1500', '1500ms', '1.5s', '2h', '0', ' 10 s'].map(timeSettingMs), [240_000, 30_000, 1_500, 1_500, 1_500, 7_200_000, 0, 10_000]);
  assert.equal(timeSettingMs('soon'), null);
});

test("a function's own statement_timeout is in the schema cache; none is null", async () => {
  await pool.query(`create schema ${schema};
    create function ${schema}.long_one() returns int language sql set statement_timeout = '4min' set search_path = '' as 'select 1';
    create function ${schema}.unbounded() returns int language sql set statement_timeout = 0 as 'select 1';
    create function ${schema}.plain() returns int language sql as 'select 1';`);
  const { functions } = await loadCatalog(pool, [schema]);
  const own = Object.fromEntries(functions.map((f) => [f.name, f.timeoutMs]));
  assert.deepEqual(own, { long_one: 240_000, unbounded: 0, plain: null });
  assert.ok(!('ownTimeout' in functions[0]!));
});
