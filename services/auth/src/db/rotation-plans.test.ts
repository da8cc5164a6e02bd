// Planner statistics kept in step with a table's growth, against real Postgres on a scratch project database with
// the tenant schema: the rotation statement, prepared while refresh_tokens was small, reads the whole table on
// every batch once it has grown; the statistics job (run as the auth service's role) analyzes the table, and the
// same connection's next rotations read no table whole.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { rotateActive } from './rotations.js';
import { analyzeOutgrown } from '@basalt/db';
import { testDatabase } from '@basalt/testkit';

const db = testDatabase('basalt_auth_statistics_test');
const hash = (t: string) => createHash('sha256').update(t).digest('hex');
const newToken = () => randomBytes(12).toString('hex');

/** Rows of refresh_tokens read by sequential scans so far on `conn` (whose counts are flushed first). */
async function sequentialReads(conn: pg.Pool): Promise<number> {
  await conn.query('select pg_stat_force_next_flush()');
  const { rows } = await db.pool.query(`select seq_tup_read::int as n from pg_stat_user_tables where relid = 'auth.refresh_tokens'::regclass`);
  return rows[0].n;
}

test('a grown refresh_tokens is analyzed, and rotations stop reading it whole', async () => {
  // autovacuum off for these tables: a visit of its own (once a minute per database, at a moment this test cannot
  // know) would analyze them and replan the statement, and the plan the test starts from would be left to chance
  for (const table of ['users', 'sessions', 'refresh_tokens']) await db.pool.query(`alter table auth.${table} set (autovacuum_enabled = off)`);
  const { rows: [u] } = await db.pool.query(`insert into auth.users (email, aud, role) values ('grows@example.com', 'authenticated', 'authenticated') returning id`);
  const chains: string[] = [];
  for (let i = 0; i < 32; i++) {
    const { rows: [s] } = await db.pool.query('insert into auth.sessions (user_id) values ($1) returning id', [u.id]);
    chains.push(newToken());
    await db.pool.query('insert into auth.refresh_tokens (token, user_id, session_id) values ($1, $2, $3)', [hash(chains[i]!), u.id, s.id]);
  }
  // one connection: the one whose prepared statements keep their plans. Generic plans from the first execution:
  // Postgres's own choice after five custom plans compares their costs, which sit close on a table this small and
  // moved with its page count from run to run, so the stale plan the test starts from was left to chance (CI once
  // read 0 rows before the job: the statements were still planned afresh). Index scans off until the job: the
  // plans made before it are the table-reading plans a small table gets (twice in CI one was not: the costs sit
  // close, and a batch size first seen after the growth is planned then); a setting does not replan a kept plan,
  // the job's ANALYZE does.
  const conn = new pg.Pool({
    connectionString: db.url, max: 1,
    options: '-c plan_cache_mode=force_generic_plan -c enable_indexscan=off -c enable_bitmapscan=off -c enable_indexonlyscan=off',
  });
  // the scratch database is dropped (with force) by a hook that may run before this one: its idle connection's end
  // is then an error of no interest, which unheard would be an uncaught exception (CI saw one)
  conn.on('error', () => undefined);
  after(() => conn.end());
  const rotateAll = () => Promise.all(chains.map(async (token, i) => {
    const next = newToken();
    assert.ok(await rotateActive(conn, { hash: hash(token), childHash: hash(next), sealed: 'sealed' }), `chain ${i} rotated`);
    chains[i] = next;
  }));
  // the statement is prepared (and after five runs its generic plan kept) while the table is small
  for (let i = 0; i < 8; i++) await rotateAll();
  // a day of revoked tokens, as GoTrue keeps them
  await conn.query(`insert into auth.refresh_tokens (token, user_id, session_id, revoked)
    select md5(g::text) || md5((-g)::text), $1, (select id from auth.sessions limit 1), true from generate_series(1, 20000) g`, [u.id]);

  let before = await sequentialReads(conn);
  await rotateAll();
  const whole = (await sequentialReads(conn)) - before;
  assert.ok(whole >= 20_000, `before the job a batch reads the table whole (${whole} rows read by sequential scans)`);
  await conn.query('set enable_indexscan = on; set enable_bitmapscan = on; set enable_indexonlyscan = on');

  // as a service runs it: logged in without privileges of its own, able to take basalt_admin
  const role = `auth_stats_${randomBytes(4).toString('hex')}`;
  await db.pool.query(`create role ${role} login noinherit; grant basalt_admin to ${role}`);
  const url = new URL(db.url);
  url.username = role;
  const service = new pg.Pool({ connectionString: url.toString(), max: 1 });
  try {
    assert.deepEqual(await analyzeOutgrown(service, 'auth'), ['refresh_tokens']);
    assert.deepEqual(await analyzeOutgrown(service, 'auth'), [], 'analyzed at its size: not again until it doubles');
    await assert.rejects(analyzeOutgrown(service, 'public'), /not a platform schema/);
    await assert.rejects(service.query(`select basalt.analyze_outgrown('auth')`), /permission denied/, 'only basalt_admin may call it');
  } finally {
    await service.end();
    await db.pool.query(`drop role ${role}`);
  }

  before = await sequentialReads(conn);
  await rotateAll();
  await rotateAll();
  const read = (await sequentialReads(conn)) - before;
  assert.ok(read < 1000, `after the job the rotations find their tokens by index (${read} rows read by sequential scans)`);
});
