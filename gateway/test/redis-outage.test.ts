// A Redis outage never turns requests into errors: a gateway on a private Redis keeps answering while that
// Redis is frozen (SIGSTOP: connections open, nothing answers) and while it is gone (SIGKILL), because the rate
// limiter fails open within its timeout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;
let redis: ChildProcess | undefined;
let gateway: ChildProcess | undefined;
let gw = '';
let p: TestProject;

before(async () => {
  if (!hasRedis) return;
  const redisPort = await freePort();
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => net.connect(redisPort, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = await freePort();
  gateway = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/src/main.ts')], {
    env: { ...process.env, ...env.fleetEnv, REDIS_URL: `redis://127.0.0.1:${redisPort}`, PORT: String(port), LOG_LEVEL: 'error', ACCESS_LOG: 'false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  gw = `http://127.0.0.1:${port}`;
  await waitForHealth(gw, 30_000, gateway);
  p = await createProject('redis-outage');
  await p.sql(`create table notes (id int primary key); insert into notes values (1); create policy r on notes for select to anon using (true);`);
});
after(() => {
  gateway?.kill('SIGTERM');
  redis?.kill('SIGCONT');
  redis?.kill('SIGKILL');
});

async function burst(): Promise<number[]> {
  const started = Date.now();
  const statuses = await Promise.all(Array.from({ length: 20 }, () =>
    fetch(`${gw}/project/${p.ref}/rest/v1/notes?select=id`, { headers: { apikey: p.anonKey } }).then((r) => r.status)));
  assert.ok(Date.now() - started < 5_000, 'answered in bounded time');
  return statuses;
}

test('requests pass while Redis is up, frozen and gone', async (t) => {
  if (!hasRedis) return t.skip('redis-server is not installed');
  assert.deepEqual(new Set(await burst()), new Set([200]));
  redis!.kill('SIGSTOP');
  await new Promise((r) => setTimeout(r, 1100)); // a new second: the limiter must ask Redis for a new lease
  assert.deepEqual(new Set(await burst()), new Set([200]), 'frozen Redis');
  redis!.kill('SIGCONT');
  redis!.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(new Set(await burst()), new Set([200]), 'Redis gone');
});
