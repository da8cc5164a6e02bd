// oneTrip against real Postgres: parameters inlined as literals that cannot break out, a statement without values
// sent as written, the caller's settings visible inside, and a failure rolled back and mapped.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { oneTrip, oneTripMany } from './one-trip.js';
import { createPool } from './pool.js';

const pool = createPool(process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', { max: 1 });
after(() => pool.end());
const caller = { role: 'postgres', claims: { sub: 'u-1' } };

test('values are inlined as literals; a statement without values is sent as written', async () => {
  const [row] = await oneTrip(pool, caller, `select $1::text as s, $2::int as n, $3::text[] as a, $4::bytea as b, $5::jsonb as j, $6::boolean as t, $7::text as z,
    current_setting('request.jwt.claim.sub') as sub`, ["o'b\\$1", 42, ['x', "y'"], Buffer.from([0, 255]), { k: [1] }, true, null]);
  assert.deepEqual(row, { s: "o'b\\$1", n: 42, a: ['x', "y'"], b: Buffer.from([0, 255]), j: { k: [1] }, t: true, z: null, sub: 'u-1' });
  assert.deepEqual(await oneTrip(pool, caller, `select '$1' as kept`, []), [{ kept: '$1' }]);
  const [first, second] = await oneTripMany(pool, caller, [{ text: 'select 1 as a', values: [] }, { text: 'select $1::int as b', values: [2] }]);
  assert.deepEqual([first, second], [[{ a: 1 }], [{ b: 2 }]]);
});

test('a failing statement rolls the whole trip back and is mapped', async () => {
  await assert.rejects(oneTripMany(pool, caller, [
    { text: 'create table one_trip_rollback (x int)', values: [] },
    { text: 'select 1 / $1::int', values: [0] },
  ], (e) => new Error(`mapped: ${(e as { code?: string }).code}`)), /mapped: 22012/);
  assert.equal((await pool.query(`select to_regclass('one_trip_rollback') as t`)).rows[0].t, null);
  assert.deepEqual(await oneTrip(pool, caller, 'select 1 as ok', []), [{ ok: 1 }], 'the connection is usable after');
});

test('a NUL in an inlined string is refused as Postgres refuses one in a parameter (22021), not a broken message', async () => {
  await assert.rejects(oneTrip(pool, caller, 'select $1::text as s', ['a\u0000b']), (e: { code?: string }) => e.code === '22021');
  assert.deepEqual(await oneTrip(pool, caller, 'select 1 as ok', []), [{ ok: 1 }]);
});
