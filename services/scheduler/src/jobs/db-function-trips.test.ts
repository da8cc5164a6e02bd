// Several runs to a round trip against real Postgres: each run its own transaction as service_role with its own
// settings, a failure or a timeout confined to its run, the runs after it sent again and none run twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createPool, withClient } from '@basalt/db';
import type pg from 'pg';
import { runDbFunctions, type DbFunctionRun } from './db-function-trips.js';

const adminUrl = process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `cron_trips_${randomBytes(4).toString('hex')}`;
let pool: pg.Pool;

before(async () => {
  await withClient(adminUrl, (c) => c.query(`create database ${dbName}`));
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  await withClient(url.toString(), (c) => c.query(`
    create table calls (id bigint generated always as identity primary key, note text, who text, path text);
    create function note(note text) returns void language sql as $$
      insert into calls (note, who, path) values (note, current_user, current_setting('request.path', true)) $$;
    create function boom() returns void language plpgsql as $$ begin raise exception 'kaboom'; end $$;
    create function slow() returns void language sql as $$ select pg_sleep(2) $$;
    grant all on calls to service_role;
    grant execute on all functions in schema public to service_role;`));
  pool = createPool(url.toString(), { max: 2 });
});

after(async () => {
  await pool?.end();
  await withClient(adminUrl, (c) => c.query(`drop database if exists ${dbName} with (force)`));
});

let seq = 0;
const run = (name: string, args?: Record<string, unknown>, timeoutMs = 5_000): DbFunctionRun => {
  seq += 1;
  return { run_id: String(seq), job_id: `job-${seq}`, ref: 'trips', target: { type: 'db_function', name, args }, timeout_ms: timeoutMs, scheduled_at: new Date() };
};
const calls = async () => (await pool.query<{ note: string; who: string; path: string }>('select note, who, path from calls order by id')).rows;

test('runs of a trip each commit as service_role with their own settings', async () => {
  await pool.query('truncate calls');
  const runs = [run('note', { note: 'a' }), run('note', { note: 'b' }), run('public.note', { note: 'c' })];
  const outcomes = await runDbFunctions(pool, 'trips', runs);
  assert.deepEqual(outcomes.map((o) => [o.runId, o.status, o.error]), runs.map((r) => [r.run_id, 'succeeded', null]));
  assert.deepEqual(await calls(), runs.map((r, i) => ({ note: 'abc'[i], who: 'service_role', path: `cron:${r.job_id}` })));
  for (const [i, o] of outcomes.entries()) {
    assert.ok(o.durationMs >= 0 && o.durationMs < 5_000, `duration of run ${i}`);
    if (i > 0) assert.ok(o.startedAt.getTime() >= outcomes[i - 1].startedAt.getTime(), 'a later run of the trip starts after the one before');
  }
});

test('a failing run fails alone: the runs before it stay committed, the runs after it run once', async () => {
  await pool.query('truncate calls');
  const runs = [run('note', { note: 'a' }), run('boom'), run('note', { note: 'b' }), run('missing_fn'), run('note', { note: 'c' })];
  const outcomes = await runDbFunctions(pool, 'trips', runs);
  assert.deepEqual(outcomes.map((o) => o.runId), runs.map((r) => r.run_id), 'one outcome per run, in order');
  assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'failed', 'succeeded', 'failed', 'succeeded']);
  assert.match(outcomes[1].error!, /kaboom/);
  assert.match(outcomes[3].error!, /missing_fn/);
  assert.deepEqual((await calls()).map((c) => c.note), ['a', 'b', 'c'], 'every other run exactly once');
  const { rows } = await pool.query("select current_setting('request.path', true) as path");
  assert.ok(!rows[0].path, 'no run leaves its settings on the connection');
});

test('a run over its timeout is timed_out, and the run after it starts once it ended', async () => {
  await pool.query('truncate calls');
  const runs = [run('note', { note: 'a' }), run('slow', undefined, 200), run('note', { note: 'b' })];
  const outcomes = await runDbFunctions(pool, 'trips', runs);
  assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'timed_out', 'succeeded']);
  assert.equal(outcomes[1].error, 'timed out after 200 ms');
  assert.ok(outcomes[1].durationMs >= 150, `the timed-out run lasted its timeout (${outcomes[1].durationMs} ms)`);
  assert.ok(outcomes[2].startedAt.getTime() - outcomes[1].startedAt.getTime() >= 150, 'recorded as starting when it did');
  assert.deepEqual((await calls()).map((c) => c.note), ['a', 'b']);
});

test('a pool that cannot connect fails every run of the trip', async () => {
  const dead = createPool('postgres://postgres@127.0.0.1:1/none', { connectionTimeoutMillis: 500 });
  const outcomes = await runDbFunctions(dead, 'trips', [run('note', { note: 'x' }), run('note', { note: 'y' })]);
  await dead.end();
  assert.deepEqual(outcomes.map((o) => o.status), ['failed', 'failed']);
  assert.ok(outcomes.every((o) => o.error && o.error.length > 0));
});
