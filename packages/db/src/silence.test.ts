// A database that stops answering, through a stalling TCP proxy in front of real Postgres: a watched pool's
// statement fails with DatabaseSilent (503) once unanswered past its bound, whichever way it was sent (a query,
// asCaller, oneTrip, withTransaction), and the connection is dropped rather than given back; a statement that is
// merely slow, or a transaction with a longer bound of its own, is left to finish; an unwatched pool is not touched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tcpProxy, type TcpProxy } from '@basalt/testkit';
import { oneTrip } from './one-trip.js';
import { createPool, withTransaction, type Pool } from './pool.js';
import { asCaller } from './request-context.js';
import { DatabaseSilent, silenceBound } from './silence.js';

const BOUND_MS = 1_200;
const url = new URL(process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const caller = { role: 'postgres', claims: { sub: 'u-1' } };
let proxy: TcpProxy;
let through: string;

before(async () => {
  proxy = await tcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  through = Object.assign(new URL(url), { host: `${proxy.host}:${proxy.port}` }).toString();
});
after(() => proxy.close());

/** a watched pool through the proxy, its connection made while the database answers */
async function watchedPool(): Promise<Pool> {
  const pool = createPool(through, { max: 1, silenceMs: BOUND_MS, connectionTimeoutMillis: 2_000 });
  assert.equal((await pool.query('select 1 as one')).rows[0].one, 1);
  return pool;
}

async function silentFor<T>(pool: Pool, what: string, run: () => Promise<T>): Promise<void> {
  proxy.state.stalled = true;
  const started = performance.now();
  try {
    await assert.rejects(run(), (e: DatabaseSilent) => e instanceof DatabaseSilent && e.status === 503 && e.code === 'database_silent', what);
  } finally {
    proxy.resume();
  }
  const took = performance.now() - started;
  // seen waiting at a sweep (≤ 1 s after it was sent), given up once the bound has passed since
  assert.ok(took >= BOUND_MS - 50 && took < BOUND_MS + 2_100, `${what}: ${Math.round(took)} ms`);
  for (let i = 0; i < 100 && pool.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(pool.totalCount, 0, `${what}: the silent connection is not given back`);
  assert.equal((await pool.query('select 2 as two')).rows[0].two, 2, `${what}: a new connection once it answers`);
}

test('every way a statement is sent fails with DatabaseSilent past the bound, and its connection goes', async () => {
  const pool = await watchedPool();
  try {
    await silentFor(pool, 'a query', () => pool.query('select 1'));
    await silentFor(pool, 'asCaller', () => asCaller(pool, caller, (c) => c.query('select 1')));
    await silentFor(pool, 'oneTrip', () => oneTrip(pool, caller, 'select $1::int as n', [1]));
    await silentFor(pool, 'withTransaction', () => withTransaction(pool, (c) => c.query('select 1')));
  } finally {
    await pool.end();
  }
});

test('a slow statement within its bound finishes; a transaction may carry a longer bound, and the next one the pool\'s', async () => {
  const pool = await watchedPool();
  try {
    assert.equal((await pool.query('select pg_sleep(0.6), 3 as n')).rows[0].n, 3);
    // its statement timeout (2 s) and the grace: a 2.6 s statement is waited for
    const [row] = await oneTrip<{ n: number }>(pool, { ...caller, timeoutMs: 2_000 }, 'select pg_sleep(1.6), 4 as n', []);
    assert.equal(row!.n, 4);
    const c = await pool.connect();
    silenceBound(c, Infinity); // what migrations ask for
    assert.equal((await c.query('select pg_sleep(2.6), 5 as n')).rows[0].n, 5);
    silenceBound(c, null);
    c.release();
    await assert.rejects(pool.query('select pg_sleep(3)'), DatabaseSilent);
  } finally {
    await pool.end();
  }
});

test('an unwatched pool is left to wait', async () => {
  const pool = createPool(through, { max: 1 });
  try {
    await pool.query('select 1');
    proxy.state.stalled = true;
    const late = pool.query('select 6 as n');
    await new Promise((r) => setTimeout(r, BOUND_MS + 1_200));
    proxy.resume();
    assert.equal((await late).rows[0].n, 6);
  } finally {
    proxy.resume();
    await pool.end();
  }
});
