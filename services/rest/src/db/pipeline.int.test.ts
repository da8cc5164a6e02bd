// The pipelined round trip against real Postgres, since it drives node-pg's private Connection API (pg is pinned):
// settings and statement go out with one Sync and come back with one ReadyForQuery, an error mid-pipeline leaves
// the connection usable with nothing prepared twice, named statements stop at the per-connection cap, and reads of
// different callers that share a round trip each see their own settings and nothing another made; a database that
// stops answering fails a request at its deadline, whatever the path, and takes the connection along.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { BasaltError } from '@basalt/errors';
import type { RequestRole } from '@basalt/tenancy';
import { execute, type Caller, type Execution } from './execute.js';
import { MAX_PREPARED_PER_CONNECTION } from '@basalt/db';
import { tcpProxy } from '@basalt/testkit';
import { restStatements } from './statements.js';

// One connection, so every call below reuses the same server session and statement cache.
const pool = new pg.Pool({ connectionString: process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', max: 1 });
let caller: Caller;
let connection: { on: (e: string, f: (msg: { text?: string }) => void) => void; off: (e: string, f: (msg: { text?: string }) => void) => void };
before(async () => {
  const c = await pool.connect();
  connection = (c as unknown as { connection: typeof connection }).connection;
  // Run as the login itself (the tenant roles need not exist in this database).
  const role = (await c.query('select current_user as u')).rows[0].u as RequestRole;
  c.release();
  caller = { pool, role, claims: { sub: 'u-1', email: "o'brien@x.test" }, schema: 'pg_catalog', timeoutMs: 1500, deadlineMs: null, method: 'GET', path: '/t', timezone: 'Asia/Tokyo' };
});
after(() => pool.end());

const once: Execution = { readOnly: true, tx: false, rollback: false, maxAffected: null, singular: false, estimate: null };
const step = (text: string, values: unknown[] = []) => ({ main: { text, values }, explain: null, exact: null });

/** Round trips = ReadyForQuery messages while fn runs. */
async function roundTrips<T>(fn: () => Promise<T>): Promise<[T, number]> {
  let n = 0;
  const count = () => void n++;
  connection.on('readyForQuery', count);
  try {
    return [await fn(), n];
  } finally {
    connection.off('readyForQuery', count);
  }
}

const READ = `select json_build_object('sub', current_setting('request.jwt.claim.sub'), 'email', current_setting('request.jwt.claim.email'),
  'path', current_setting('request.path'), 'search_path', current_setting('search_path'), 'timeout', current_setting('statement_timeout'),
  'read_only', current_setting('transaction_read_only'), 'tz', current_setting('timezone'))::text as body, 1 as n`;

test('settings and statement in one round trip; nothing carries over to the next statement', async () => {
  const [r, trips] = await roundTrips(() => execute(caller, once, step(READ)));
  assert.equal(trips, 1);
  assert.deepEqual(JSON.parse(r.body!), {
    sub: 'u-1', email: "o'brien@x.test", path: '/t', search_path: '"pg_catalog", extensions', timeout: '1500ms', read_only: 'on', tz: 'Asia/Tokyo',
  });
  const [again, trips2] = await roundTrips(() => execute({ ...caller, claims: {}, timezone: null }, { ...once, readOnly: false }, step(READ)));
  assert.equal(trips2, 1, 'the settings statement is prepared once per connection');
  const seen = JSON.parse(again.body!);
  assert.equal(seen.sub, '');
  assert.equal(seen.read_only, 'off');
  assert.notEqual(seen.tz, 'Asia/Tokyo');
});

test('read-only and the statement timeout are enforced', async () => {
  await assert.rejects(execute(caller, once, step('create temp table t_ro (x int)')), (e: BasaltError) => e.code === '25006');
  await assert.rejects(execute({ ...caller, timeoutMs: 50 }, once, step('select pg_sleep(1)::text as body')), (e: BasaltError) => e.status === 504 && e.code === '57014');
});

test('an error mid-pipeline leaves the connection usable and its statement re-preparable', async () => {
  const text = 'select (10 / $1::int)::text as body, 1 as n';
  await assert.rejects(execute(caller, once, step(text, [0])), (e: BasaltError) => e instanceof BasaltError && e.code === '22012');
  // The failed pipeline prepared the statement; it was dropped, so preparing it again does not collide.
  assert.equal((await execute(caller, once, step(text, [2]))).body, '5');
  assert.equal((await execute(caller, once, step(text, [5]))).body, '2');
  // The same in an explicit transaction: rolled back, then usable.
  const tx = { ...once, tx: true, readOnly: false };
  await assert.rejects(execute(caller, tx, step('select (1 / $1::int)::text as body, 1 as n', [0])), (e: BasaltError) => e.code === '22012');
  assert.equal((await execute(caller, tx, step('select (1 / $1::int)::text as body, 1 as n', [1]))).body, '1');
  const c = await pool.connect();
  try {
    const dup = await c.query('select statement, count(*)::int as n from pg_prepared_statements group by statement having count(*) > 1');
    assert.deepEqual(dup.rows, []);
    assert.equal((await c.query(`select current_setting('request.jwt.claims', true) as c`)).rows[0].c || '', '');
  } finally {
    c.release();
  }
});

test('named statements stop at the per-connection cap; past it statements still run, unnamed', async () => {
  const extra = 10;
  for (let i = 0; i < MAX_PREPARED_PER_CONNECTION + extra; i++) {
    const r = await execute(caller, once, step(`select ${i}::text as body, 1 as n`));
    assert.equal(r.body, String(i));
  }
  assert.equal(restStatements.count(connection), MAX_PREPARED_PER_CONNECTION);
  const c = await pool.connect();
  try {
    const n = (await c.query('select count(*)::int as n from pg_prepared_statements')).rows[0].n;
    assert.ok(n <= MAX_PREPARED_PER_CONNECTION, `${n} prepared`);
  } finally {
    c.release();
  }
});

// Reads of different callers, queued for the one connection, go together (execute.ts)
const callerOf = (i: number): Caller => ({
  ...caller, path: `/t/${i}`,
  claims: i % 3 === 0 ? { sub: `user-${i}`, email: `u${i}@example.com` } : { sub: `user-${i}` },
  timezone: i % 4 === 0 ? 'Asia/Tokyo' : null,
});

// what a reader sees of the settings; a writer sets a transaction-local setting, as a policy or function may
const SEEN = `select json_build_object('sub', current_setting('request.jwt.claim.sub', true), 'email', current_setting('request.jwt.claim.email', true),
  'path', current_setting('request.path', true), 'tz', current_setting('TimeZone'), 'leak', current_setting('test.leak', true))::text as body`;
const WRITE = `select set_config('test.leak', $1, true) as body`;
const WRITE_SESSION = `select set_config('test.leak', $1, false) as body`;

test('reads that go together each see their own settings and none another made', async () => {
  const { rows: [{ tz: sessionZone }] } = await pool.query(`select current_setting('TimeZone') as tz`);
  const n = 40;
  const [results, trips] = await roundTrips(() => Promise.all(Array.from({ length: n }, (_, i) =>
    execute(callerOf(i), once, i % 2 ? step(WRITE, [`leak-from-${i}`]) : step(SEEN)))));
  assert.ok(trips < n / 2, `${trips} round trips for ${n} reads`);
  for (let i = 0; i < n; i += 2) {
    const seen = JSON.parse(results[i]!.body!);
    assert.equal(seen.sub, `user-${i}`, `read ${i}`);
    assert.ok(seen.email === (i % 3 === 0 ? `u${i}@example.com` : '') || (i % 3 !== 0 && seen.email === null), `read ${i}: email ${seen.email}`);
    assert.equal(seen.path, `/t/${i}`);
    assert.equal(seen.tz, i % 4 === 0 ? 'Asia/Tokyo' : sessionZone, `read ${i}: time zone`);
    assert.ok(!seen.leak, `read ${i} saw ${seen.leak}`);
  }
});

test('reads of one caller that go together share its settings, and none sees what another one set, locally or for the session', async () => {
  const one = callerOf(3);
  const n = 40;
  let selects = 0;
  const count = (msg: { text?: string }) => void (msg.text?.startsWith('SELECT') && selects++);
  connection.on('commandComplete', count);
  let results;
  try {
    results = await Promise.all(Array.from({ length: n }, (_, i) =>
      execute(one, once, i % 2 ? step(i % 4 === 1 ? WRITE : WRITE_SESSION, [`leak-from-${i}`]) : step(SEEN))));
  } finally {
    connection.off('commandComplete', count);
  }
  // a statement of settings per read would make 2n SELECTs
  assert.ok(selects < 1.5 * n, `${selects} SELECTs for ${n} reads`);
  for (let i = 0; i < n; i += 2) {
    const seen = JSON.parse(results[i]!.body!);
    assert.equal(seen.sub, 'user-3', `read ${i}`);
    assert.equal(seen.email, 'u3@example.com');
    assert.equal(seen.path, '/t/3');
    assert.ok(!seen.leak, `read ${i} saw ${seen.leak}`);
  }
  assert.equal((await pool.query(`select current_setting('test.leak', true) as v`)).rows[0].v || '', '');
});

test('a read that fails fails alone; the ones with it get their rows', async () => {
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) =>
    execute(callerOf(i), once, i === 5 ? step('select (1 / 0)::text as body') : step(SEEN))));
  results.forEach((r, i) => {
    if (i === 5) assert.equal(r.status, 'rejected', 'the failing read');
    else assert.equal(r.status === 'fulfilled' && JSON.parse(r.value.body!).sub, `user-${i}`, `read ${i}: ${r.status === 'rejected' ? r.reason : ''}`);
  });
  // the connection is usable afterwards, out of any transaction
  assert.equal((await pool.query('select 1 as one')).rows[0].one, 1);
});

test('a read that fails among reads sharing its settings fails alone too', async () => {
  const one = callerOf(3);
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) =>
    execute(one, once, i === 5 ? step('select (1 / 0)::text as body') : step(SEEN))));
  results.forEach((r, i) => {
    if (i === 5) assert.equal(r.status === 'rejected' && (r.reason as BasaltError).code, '22012', 'the failing read');
    else assert.equal(r.status === 'fulfilled' && JSON.parse(r.value.body!).sub, 'user-3', `read ${i}: ${r.status === 'rejected' ? r.reason : ''}`);
  });
  assert.equal((await pool.query('select 1 as one')).rows[0].one, 1);
});

test('a database that stops answering fails each path at its deadline with 503 PGRST001, and the connection goes', async () => {
  const url = new URL(process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const proxy = await tcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  const frozen = new pg.Pool({ connectionString: Object.assign(new URL(url), { host: `${proxy.host}:${proxy.port}` }).toString(), max: 2, connectionTimeoutMillis: 2_000 });
  frozen.on('error', () => undefined);
  const c: Caller = { ...caller, pool: frozen, deadlineMs: 300 };
  try {
    const paths: [string, Execution][] = [
      ['a read', once],
      ['a write', { ...once, readOnly: false }],
      ['a checked transaction', { ...once, tx: true, singular: true }],
    ];
    for (const [what, exec] of paths) {
      assert.equal((await execute(c, exec, step('select 1 as n'))).n, 1, `${what} while it answers`);
      // a read-only transaction's COMMIT goes on after its answer: the connection is back once it is done
      for (let i = 0; i < 50 && frozen.idleCount < frozen.totalCount; i++) await new Promise((r) => setTimeout(r, 10));
      proxy.state.stalled = true;
      const started = performance.now();
      await assert.rejects(execute(c, exec, step('select 1 as n')), (e: BasaltError) => e.status === 503 && e.code === 'PGRST001', what);
      const took = performance.now() - started;
      assert.ok(took >= 290 && took < 2_000, `${what}: ${Math.round(took)} ms`);
      proxy.resume();
      for (let i = 0; i < 50 && frozen.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(frozen.totalCount, 0, `${what}: the silent connection is not given back`);
    }
  } finally {
    await frozen.end();
    await proxy.close();
  }
});

test('a value that cannot be encoded fails its request before anything is sent; the next one runs', async () => {
  const circular: Record<string, unknown> = { toPostgres: () => circular };
  const [, trips] = await roundTrips(() => assert.rejects(execute(caller, once, step('select $1::text as body, 1 as n', [circular])), /circular/));
  assert.equal(trips, 0);
  // (not a Postgres error: the connection is discarded, as for any failure of the connection's own)
  assert.equal((await execute(caller, once, step('select $1::text as body, 1 as n', ['after']))).body, 'after');
});
