// Several runs to a round trip against real Postgres: each run its own transaction as service_role with its own
// settings, a failure or a timeout confined to its run, the runs after it sent again and none run twice; each
// committed run's receipt beside its effect, and receipts pruned after an hour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPool } from '@basalt/db';
import { testDatabase } from '@basalt/testkit';
import type pg from 'pg';
import { runDbFunctions, type DbFunctionRun } from './db-function-trips.js';

// a project database as the platform makes it (the tenant schema, receipts included)
const db = testDatabase('basalt_cron_trips_test');
let pool: pg.Pool;
let made: Promise<void> | undefined;

/** the functions the runs call; made by the first test that needs them (testDatabase's own hook makes the database) */
const setup = () =>
  (made ??= (async () => {
    pool = db.pool;
    await pool.query(`
      create table calls (id bigint generated always as identity primary key, note text, who text, path text);
      create function note(note text) returns void language sql as $$
        insert into calls (note, who, path) values (note, current_user, current_setting('request.path', true)) $$;
      create function boom() returns void language plpgsql as $$ begin raise exception 'kaboom'; end $$;
      create function slow() returns void language sql as $$ select pg_sleep(2) $$;
      create function lookup() returns bigint language sql as $$ select count(*) from calls $$;
      create table at_commit (who text);
      create function record_committer() returns trigger language plpgsql as $$
        begin insert into at_commit values (current_user); return null; end $$;
      create constraint trigger committer after insert on calls deferrable initially deferred
        for each row execute function record_committer();
      grant all on at_commit to service_role;
      grant all on calls to service_role;
      grant execute on all functions in schema public to service_role;`);
  })());

let seq = 0;
const run = (name: string, args?: Record<string, unknown>, timeoutMs = 5_000): DbFunctionRun => {
  seq += 1;
  return { run_id: String(seq), job_id: randomUUID(), ref: 'trips', target: { type: 'db_function', name, args }, timeout_ms: timeoutMs, scheduled_at: new Date() };
};
const calls = async () => (await pool.query<{ note: string; who: string; path: string }>('select note, who, path from calls order by id')).rows;
/** the runs of `runs` that have a receipt, by run id, in order */
const receipts = async (runs: DbFunctionRun[]) => {
  const { rows } = await pool.query<{ job_id: string }>('select job_id from basalt.cron_receipts where job_id = any($1::uuid[])', [runs.map((r) => r.job_id)]);
  const have = new Set(rows.map((r) => r.job_id));
  return runs.filter((r) => have.has(r.job_id)).map((r) => r.run_id);
};

test('runs of a trip each commit as service_role with their own settings', async () => {
  await setup();
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
  await setup();
  await pool.query('truncate calls');
  const runs = [run('note', { note: 'a' }), run('boom'), run('note', { note: 'b' }), run('missing_fn'), run('note', { note: 'c' })];
  const outcomes = await runDbFunctions(pool, 'trips', runs);
  assert.deepEqual(outcomes.map((o) => o.runId), runs.map((r) => r.run_id), 'one outcome per run, in order');
  assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'failed', 'succeeded', 'failed', 'succeeded']);
  assert.match(outcomes[1].error!, /kaboom/);
  assert.match(outcomes[3].error!, /missing_fn/);
  assert.deepEqual((await calls()).map((c) => c.note), ['a', 'b', 'c'], 'every other run exactly once');
  assert.deepEqual(await receipts(runs), [runs[0], runs[2], runs[4]].map((r) => r.run_id), 'a receipt for each run that committed, none for a failed one');
  const { rows } = await pool.query("select current_setting('request.path', true) as path");
  assert.ok(!rows[0].path, 'no run leaves its settings on the connection');
});

test('a run over its timeout is timed_out, and the run after it starts once it ended', async () => {
  await setup();
  await pool.query('truncate calls');
  const runs = [run('note', { note: 'a' }), run('slow', undefined, 200), run('note', { note: 'b' })];
  const outcomes = await runDbFunctions(pool, 'trips', runs);
  assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'timed_out', 'succeeded']);
  assert.equal(outcomes[1].error, 'timed out after 200 ms');
  assert.ok(outcomes[1].durationMs >= 150, `the timed-out run lasted its timeout (${outcomes[1].durationMs} ms)`);
  assert.ok(outcomes[2].startedAt.getTime() - outcomes[1].startedAt.getTime() >= 150, 'recorded as starting when it did');
  assert.deepEqual((await calls()).map((c) => c.note), ['a', 'b']);
  assert.deepEqual(await receipts(runs), [runs[0], runs[2]].map((r) => r.run_id), 'none for the run that timed out');
});

test('each run writes its receipt with its effect, and a run or slot executed again is refused with no second effect', async () => {
  await setup();
  await pool.query('truncate calls');
  const once = run('note', { note: 'once' });
  const [first] = await runDbFunctions(pool, 'trips', [once]);
  assert.equal(first.status, 'succeeded');
  assert.deepEqual(await receipts([once]), [once.run_id]);
  const [again] = await runDbFunctions(pool, 'trips', [once]);
  assert.equal(again.status, 'failed');
  assert.match(again.error!, /cron_receipts_pkey/);
  // another run of the same job's same slot (a control database restored to before the first was recorded)
  const [sameSlot] = await runDbFunctions(pool, 'trips', [{ ...once, run_id: String(++seq) }]);
  assert.equal(sameSlot.status, 'failed');
  assert.deepEqual((await calls()).map((c) => c.note), ['once'], 'the function ran once');
  const { rows } = await pool.query("select current_setting('role') as role");
  assert.equal(rows[0].role, 'none', 'no run leaves its role on the connection');
});

test('what runs at commit (a deferred trigger) runs as the caller', async () => {
  await setup();
  await pool.query('truncate at_commit');
  const [outcome] = await runDbFunctions(pool, 'trips', [run('note', { note: 'deferred' })]);
  assert.equal(outcome.status, 'succeeded');
  assert.deepEqual((await pool.query('select who from at_commit')).rows, [{ who: 'service_role' }]);
});

test('a run that wrote nothing leaves no receipt: its transaction stays read-only', async () => {
  await setup();
  const quiet = run('lookup');
  const [outcome] = await runDbFunctions(pool, 'trips', [quiet]);
  assert.equal(outcome.status, 'succeeded');
  assert.deepEqual(await receipts([quiet]), []);
});

test('in a read-only database (a project over its db_bytes quota) a run that only reads still runs', async () => {
  await setup();
  const readOnly = createPool(db.url, { max: 1 });
  await readOnly.query('select 1'); // the connection, then its mode: as the platform's alter database leaves new sessions
  await readOnly.query('set default_transaction_read_only = on');
  try {
    const [reads, writes] = await runDbFunctions(readOnly, 'trips', [run('lookup'), run('note', { note: 'refused' })]);
    assert.equal(reads.status, 'succeeded', reads.error ?? '');
    assert.equal(writes.status, 'failed');
    assert.match(writes.error!, /read-only transaction/);
  } finally {
    await readOnly.end();
  }
});

test('a trip prunes receipts older than an hour, and only those', async () => {
  await setup();
  const old = run('note', { note: 'old' });
  const recent = run('note', { note: 'recent' });
  await pool.query(`insert into basalt.cron_receipts (job_id, scheduled_at, committed_at) values
    ($1, now() - interval '61 minutes', now() - interval '61 minutes'), ($2, now() - interval '59 minutes', now() - interval '59 minutes')`, [old.job_id, recent.job_id]);
  const next = run('note', { note: 'n' });
  await runDbFunctions(pool, 'trips', [next]);
  assert.deepEqual(await receipts([old, recent, next]), [recent.run_id, next.run_id]);
});

test('anon and authenticated cannot reach receipts; service_role reaches them and nothing else of schema basalt', async () => {
  await setup();
  const c = await pool.connect();
  const as = async (role: string, sql: string) => {
    await c.query('begin');
    try {
      await c.query(`set local role ${role}`);
      await c.query(sql);
    } finally {
      await c.query('rollback');
    }
  };
  try {
    for (const role of ['anon', 'authenticated']) {
      await assert.rejects(as(role, 'select * from basalt.cron_receipts'), /permission denied for schema basalt/, role);
    }
    await as('service_role', 'select * from basalt.cron_receipts');
    await as('service_role', 'select basalt.cron_receipt(gen_random_uuid(), now(), false)');
    await assert.rejects(as('service_role', "select basalt.fold_deltas('basalt.cron_receipts')"), /permission denied for function fold_deltas/);
    await assert.rejects(as('service_role', "select basalt.analyze_outgrown('x')"), /permission denied for function analyze_outgrown/);
    await assert.rejects(as('service_role', 'create table basalt.mine (x int)'), /permission denied for schema basalt/);
  } finally {
    c.release();
  }
});

test('a pool that cannot connect fails every run of the trip', async () => {
  const dead = createPool('postgres://postgres@127.0.0.1:1/none', { connectionTimeoutMillis: 500 });
  const outcomes = await runDbFunctions(dead, 'trips', [run('note', { note: 'x' }), run('note', { note: 'y' })]);
  await dead.end();
  assert.deepEqual(outcomes.map((o) => o.status), ['failed', 'failed']);
  assert.ok(outcomes.every((o) => o.error && o.error.length > 0));
});
