// A test run killed outright leaves its databases and Redis keys; the next run drops them, and never a live run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Redis } from 'ioredis';
import { testEnv } from '@basalt/testkit';
import { holdRunLease, newRunDatabase, sweepDeadRuns } from './runs.js';

const env = testEnv();
const adminUrl = Object.assign(new URL(env.databaseUrl), { pathname: '/postgres' }).toString();

test("a dead run's databases and keys are dropped; a live run's are kept", async (t) => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const redis = new Redis(env.redisUrl);
  const [dead, live, own] = [newRunDatabase(), newRunDatabase(), newRunDatabase()];
  const liveLease = await holdRunLease(adminUrl, live); // a run in progress
  const ownLease = await holdRunLease(adminUrl, own);
  t.after(async () => {
    await admin.query(`drop database if exists ${live} with (force)`);
    await admin.query(`drop database if exists ${dead} with (force)`);
    await admin.query(`drop database if exists ${dead}_tenant_template with (force)`);
    await redis.del(`${live}:k`, `${dead}:k`);
    await Promise.all([admin.end(), liveLease.release(), ownLease.release()]);
    redis.disconnect();
  });
  // what a run killed with SIGKILL leaves: its control database, its tenant template, its keys; and a live run's
  for (const db of [dead, `${dead}_tenant_template`, live]) await admin.query(`create database ${db}`);
  await redis.set(`${dead}:k`, 'v');
  await redis.set(`${live}:k`, 'v');

  const swept = await sweepDeadRuns(adminUrl, env.redisUrl, ownLease.client, own);
  assert.ok(swept.includes(dead), `swept ${swept.join(', ')}`);
  assert.ok(!swept.includes(live));
  const { rows } = await admin.query('select datname from pg_database where datname = any($1)', [[dead, `${dead}_tenant_template`, live]]);
  assert.deepEqual(rows.map((r) => r.datname), [live]);
  assert.equal(await redis.get(`${dead}:k`), null);
  assert.equal(await redis.get(`${live}:k`), 'v');
  // the lock a dead run's sweep took is let go again
  const { rows: [free] } = await admin.query('select pg_try_advisory_lock(hashtext($1)) as ok', [dead]);
  assert.equal(free.ok, true);
  await admin.query('select pg_advisory_unlock(hashtext($1))', [dead]);
});

test("the run in progress is never swept: the runner's own database survives another run's sweep", async (t) => {
  const own = newRunDatabase();
  const lease = await holdRunLease(adminUrl, own);
  t.after(() => lease.release());
  const swept = await sweepDeadRuns(adminUrl, env.redisUrl, lease.client, own);
  assert.ok(!swept.includes(new URL(env.databaseUrl).pathname.slice(1)));
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [new URL(env.databaseUrl).pathname.slice(1)]).finally(() => admin.end());
  assert.equal(rowCount, 1);
});
