// Hostile input from a project's owner (a platform token with access to it): what once ended the platform process.
// The replica a crash would end is a second process, started here, so no other test depends on the outcome.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { createProject, eventually, testEnv } from '@basalt/testkit';

const env = testEnv();
const control = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
let replica: { url: string; child: ChildProcess; exited: () => boolean };

before(async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/platform/src/main.ts')], {
    env: { ...process.env, ...env.fleetEnv, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, 30_000, child);
  replica = { url, child, exited: () => exited };
});
after(async () => {
  replica?.child.kill('SIGTERM');
  await control.end();
});

const call = (base: string, path: string, init: { method?: string; json?: unknown } = {}) =>
  fetch(`${base}/platform/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${env.platformToken}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });

test('deleting a project while its backup is dumping fails the backup and leaves the replica running it up', async () => {
  const p = await createProject('hostile-backup-delete');
  await p.sql('create table held (id int)');
  const [{ datname }] = (await control.query<{ datname: string }>('select db_name as datname from platform.projects where ref = $1', [p.ref])).rows;
  // the owner holds a lock pg_dump must wait for, so the backup's snapshot connection sits idle while the project goes
  const holding = call(env.gatewayUrl, `/projects/${p.ref}/sql`, { method: 'POST', json: { query: 'lock table held in access exclusive mode; select pg_sleep(20)' } });
  await eventually(async () => (await control.query(
    `select 1 from pg_stat_activity where datname = $1 and query like 'lock table held%' and state = 'active'`, [datname])).rowCount, 10_000, 50);
  const started = await call(replica.url, `/projects/${p.ref}/backups`, { method: 'POST' });
  assert.equal(started.status, 202);
  const backup = (await started.json()) as { id: string };
  await eventually(async () => (await control.query(
    `select 1 from pg_stat_activity where datname = $1 and application_name = 'pg_dump' and wait_event_type = 'Lock'`, [datname])).rowCount, 20_000, 50);

  await p.remove(); // drop database … with (force): every connection to it ends, the backup's own among them
  await holding.catch(() => undefined);
  await eventually(async () => {
    const { rows } = await control.query<{ status: string }>('select status from platform.backups where id = $1', [backup.id]);
    return rows.length === 0 || rows[0].status === 'failed';
  }, 20_000, 100);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(replica.exited(), false, 'the replica that ran the backup is still running');
  assert.equal((await fetch(`${replica.url}/health`)).status, 200);
});
