// Log-like tables stay bounded: the scheduler prunes cron runs and the functions service prunes invocation
// logs, by age and by count, on their own timers (every second in the test fleet).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const control = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
let p: TestProject;

before(async () => {
  p = await createProject('history');
});
after(() => control.end());

const count = async (sql: string, params: unknown[]) => Number((await control.query<{ n: string }>(sql, params)).rows[0].n);

test('cron runs beyond 1,000 per job and older than 30 days are pruned', async () => {
  const r = await fetch(`${p.url}/cron/admin/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'yearly', schedule: '0 0 1 1 *', target: { type: 'db_function', name: 'noop' } }),
  });
  assert.equal(r.status, 201);
  const { id } = (await r.json()) as { id: string };
  // 20 runs 40 days old, then 1,200 recent ones, inserted oldest first as the scheduler would
  await control.query(
    `insert into platform.cron_runs (job_id, scheduled_at, status, created_at)
     select $1, now() - interval '40 days' - make_interval(secs => g), 'succeeded', now() - interval '40 days' from generate_series(20, 1, -1) g`, [id]);
  const at = new Date();
  await control.query(
    `insert into platform.cron_runs (job_id, scheduled_at, status, created_at)
     select $1, $2::timestamptz - make_interval(secs => g), 'succeeded', $2::timestamptz - make_interval(secs => g) from generate_series(1200, 1, -1) g`, [id, at]);
  await eventually(async () => (await count('select count(*) as n from platform.cron_runs where job_id = $1', [id])) === 1000, 15_000, 250);
  assert.equal(await count(`select count(*) as n from platform.cron_runs where job_id = $1 and created_at < now() - interval '30 days'`, [id]), 0);
  const newest = await count(`select count(*) as n from platform.cron_runs where job_id = $1 and scheduled_at >= $2::timestamptz - interval '1000 seconds'`, [id, at]);
  assert.equal(newest, 1000, 'the newest runs are the ones kept');
});

test('function invocation logs older than 7 days are pruned, and at most 10,000 are kept per project', async () => {
  await platform(`/projects/${p.ref}/functions`, { method: 'POST', json: { slug: 'noisy', source: `Deno.serve(() => new Response('ok'))` } });
  await control.query(
    `insert into platform.function_invocations (ref, slug, version, method, status, duration_ms, created_at)
     select $1, 'noisy', 1, 'POST', 200, 1, now() - interval '8 days' from generate_series(1, 300)`, [p.ref]);
  await control.query(
    `insert into platform.function_invocations (ref, slug, version, method, status, duration_ms, created_at)
     select $1, 'noisy', 1, 'POST', 200, 1, now() from generate_series(1, 10050)`, [p.ref]);
  await eventually(async () => (await count('select count(*) as n from platform.function_invocations where ref = $1', [p.ref])) === 10_000, 20_000, 250);
  assert.equal(await count(`select count(*) as n from platform.function_invocations where ref = $1 and created_at < now() - interval '7 days'`, [p.ref]), 0);
});
