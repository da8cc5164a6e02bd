// A Redis restart (queues wiped) and a scheduler crash (SIGKILL mid-work) lose no job and run no slot twice; a
// scheduler stopped with SIGTERM mid-run finishes the run and records it before it exits.
// Runs on its own control database and a private Redis so it can kill them without touching the shared fleet.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { freeBasePort, freePort, ROOT, startFleet, waitForHealth, type Fleet } from '@basalt/fleet';

const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;
let base = 0;
let redisPort = 0;
const dbName = `basalt_cron_restart_${randomBytes(4).toString('hex')}`;
const adminUrl = new URL(process.env.BASALT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const dbUrl = Object.assign(new URL(adminUrl.toString()), { pathname: `/${dbName}` }).toString();
let redis: ChildProcess | undefined;
let fleet: Fleet | undefined;
let scheduler: ChildProcess | undefined;
/** what the first test sets up and the second goes on with: the fleet's project, its token, the scheduler's port */
let shared: { project: { ref: string }; token: string; schedulerPort: number; sql: (query: string) => Promise<unknown> } | undefined;

const startRedis = async () => {
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => net.connect(redisPort, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('private redis did not start');
};

after(async () => {
  scheduler?.kill('SIGKILL');
  await fleet?.stop();
  redis?.kill('SIGKILL');
  const admin = new pg.Client({ connectionString: Object.assign(new URL(adminUrl.toString()), { pathname: '/postgres' }).toString() });
  await admin.connect();
  const c = new pg.Client({ connectionString: dbUrl });
  c.on('error', () => undefined);
  const rows = await c.connect().then(() => c.query('select db_name, db_role from platform.projects').then((r) => r.rows).finally(() => c.end()), () => []);
  for (const p of rows) {
    await admin.query(`drop database if exists "${p.db_name}" with (force)`);
    await admin.query(`drop role if exists "${p.db_role}"`);
  }
  await admin.query(`drop database if exists "${dbName}_tenant_template" with (force)`);
  await admin.query(`drop database if exists "${dbName}" with (force)`);
  await admin.end();
});

test('Redis restart and scheduler SIGKILL: the job keeps running, no slot runs twice', { skip: !hasRedis && 'redis-server is not installed' }, async () => {
  base = await freeBasePort();
  redisPort = await freePort();
  await startRedis();
  const token = `bsp_restart${randomBytes(20).toString('hex')}`;
  const env = {
    DATABASE_URL: dbUrl, REDIS_URL: `redis://127.0.0.1:${redisPort}`, BASALT_MASTER_KEY: randomBytes(32).toString('hex'),
    BASALT_PLATFORM_TOKEN: token, BASALT_PUBLIC_URL: `http://localhost:${base}`, BASALT_REDIS_PREFIX: 'restart:', LOG_LEVEL: 'error',
  };
  fleet = await startFleet({ only: ['platform'], basePort: base, logs: join(tmpdir(), `basalt-cron-restart-${base}`), env });
  const platform = async (path: string, body: unknown) => {
    const r = await fetch(`${fleet!.urls.platform}/platform/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.ok(r.ok, await r.clone().text());
    return r.json() as Promise<any>;
  };
  const project = await platform('/projects', { name: 'restart' });
  await platform(`/projects/${project.ref}/sql`, { query: 'create table ticks (id bigint generated always as identity, at timestamptz default now()); create function tick() returns void language sql as $$ insert into ticks default values $$' });

  const schedulerPort = await freePort();
  const startScheduler = async () => {
    scheduler = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/scheduler/src/main.ts')], { env: { ...process.env, ...env, PORT: String(schedulerPort) }, stdio: 'ignore' });
    await waitForHealth(`http://127.0.0.1:${schedulerPort}`, 30_000, scheduler);
  };
  await startScheduler();
  const created = await fetch(`http://127.0.0.1:${schedulerPort}/cron/admin/v1/jobs`, {
    method: 'POST',
    headers: { 'x-basalt-ref': project.ref, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tick', schedule: '* * * * * *', target: { type: 'db_function', name: 'tick' } }),
  });
  assert.equal(created.status, 201);
  const jobId = ((await created.json()) as { id: string }).id;

  await new Promise((r) => setTimeout(r, 3_000));
  redis!.kill('SIGKILL'); // every queued message is gone with it
  await new Promise((r) => setTimeout(r, 2_500));
  await startRedis();
  await new Promise((r) => setTimeout(r, 3_000));
  scheduler!.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1_500));
  await startScheduler();
  await new Promise((r) => setTimeout(r, 8_000)); // > the 5 s sweep that re-enqueues orphaned runs

  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  await c.query('update platform.cron_jobs set paused = true where id = $1', [jobId]);
  await new Promise((r) => setTimeout(r, 1_000));
  const { rows } = await c.query(`select scheduled_at, status from platform.cron_runs where job_id = $1 order by scheduled_at`, [jobId]);
  await c.end();
  const slots = rows.map((r) => r.scheduled_at.toISOString());
  assert.equal(new Set(slots).size, slots.length, 'no slot twice');
  const recent = rows.filter((r) => Date.now() - r.scheduled_at.getTime() > 3_000);
  assert.ok(recent.every((r) => r.status !== 'queued'), `orphaned runs were picked up again: ${JSON.stringify(rows.map((r) => r.status))}`);
  const succeeded = rows.filter((r) => r.status === 'succeeded').length;
  assert.ok(succeeded >= 10, `${succeeded} runs succeeded across the restarts`);
  const ticks = await fetch(`${fleet.urls.platform}/platform/v1/projects/${project.ref}/sql`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: 'select count(*)::int as n from ticks' }),
  }).then((r) => r.json() as Promise<{ n: number }[]>);
  assert.equal(ticks[0].n, succeeded, 'every succeeded run had its effect once');
  shared = { project, token, schedulerPort, sql: (query) => platform(`/projects/${project.ref}/sql`, { query }) };
});

test('scheduler SIGTERM mid-run: the run finishes and is recorded, then the process exits 0', { skip: !hasRedis && 'redis-server is not installed' }, async () => {
  assert.ok(shared && scheduler, 'the test before set the fleet and a scheduler up');
  const { project, token, schedulerPort, sql } = shared;
  await sql('create table slow_ticks (at timestamptz default now()); create function slow_tick() returns void language sql as $$ select pg_sleep(4); insert into slow_ticks default values $$');
  // once a minute, at a second 3 s from now: one run in this test's time
  const second = new Date(Date.now() + 3_000).getUTCSeconds();
  const created = await fetch(`http://127.0.0.1:${schedulerPort}/cron/admin/v1/jobs`, {
    method: 'POST',
    headers: { 'x-basalt-ref': project.ref, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'slow', schedule: `${second} * * * * *`, target: { type: 'db_function', name: 'slow_tick' }, timeout_ms: 30_000 }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const jobId = ((await created.json()) as { id: string }).id;
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const statuses = async () => (await c.query<{ status: string; duration_ms: number | null }>('select status, duration_ms from platform.cron_runs where job_id = $1', [jobId])).rows;
    for (let i = 0; i < 100 && !(await statuses()).some((r) => r.status === 'running'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await statuses()).map((r) => r.status), ['running'], 'the run started');
    const exited = new Promise<number | null>((r) => scheduler!.once('exit', (code) => r(code)));
    const sent = Date.now();
    scheduler!.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - sent < 25_000, `exited ${Date.now() - sent} ms after SIGTERM`);
    const runs = await statuses();
    assert.deepEqual(runs.map((r) => r.status), ['succeeded'], 'finished and recorded before the exit');
    assert.ok(runs[0].duration_ms! >= 3_500, `the whole run (${runs[0].duration_ms} ms)`);
    assert.deepEqual(await sql('select count(*)::int as n from slow_ticks'), [{ n: 1 }]);
  } finally {
    await c.end();
  }
});
