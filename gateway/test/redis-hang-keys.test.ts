// A gateway whose Redis stops answering with its connections open (behind a stalled proxy: frozen, or a network that
// drops without a reset) cannot hear invalidations. It notices by PING and keeps nothing for long: a secret key
// deleted meanwhile stops working there within seconds, not after the minute its cache would have kept it. The
// platform's answer to the deletion does not wait on the deaf gateway beyond its acknowledgement timeout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, ROOT, waitForHealth } from '@basalt/fleet';
import { createProject, platform, tcpProxy, testEnv, type TcpProxy, type TestProject } from '@basalt/testkit';

const env = testEnv();
let proxy: TcpProxy;
let gateway: ChildProcess | undefined;
let gw = '';
let p: TestProject;

before(async () => {
  const redis = new URL(env.fleetEnv.REDIS_URL ?? 'redis://127.0.0.1:6379');
  proxy = await tcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  const port = await freePort();
  gateway = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/src/main.ts')], {
    env: { ...process.env, ...env.fleetEnv, REDIS_URL: `redis://${proxy.host}:${proxy.port}`, PORT: String(port), LOG_LEVEL: 'error', ACCESS_LOG: 'false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  gw = `http://127.0.0.1:${port}`;
  await waitForHealth(gw, 30_000, gateway);
  p = await createProject('redis-hang-keys');
  await p.sql(`create table notes (id int primary key); insert into notes values (1);`);
});
after(async () => {
  gateway?.kill('SIGTERM');
  proxy?.resume();
  await proxy?.close();
});

test('a secret key deleted while this gateway\'s Redis hangs stops working here within seconds', async () => {
  const key = await platform<{ id: string; api_key: string }>(`/projects/${p.ref}/api-keys`, { method: 'POST', json: { type: 'secret', name: 'server' } });
  const read = () => fetch(`${gw}/project/${p.ref}/rest/v1/notes?select=id`, { headers: { apikey: key.api_key } }).then((r) => r.status);
  assert.equal(await read(), 200, 'the key works, and this gateway holds it');
  proxy.state.stalled = true;
  const started = performance.now();
  await platform(`/projects/${p.ref}/api-keys/${key.id}`, { method: 'DELETE' });
  assert.ok(performance.now() - started < 3_000, 'the deletion is answered without waiting on the deaf gateway');
  let status = await read();
  while (status === 200 && performance.now() - started < 10_000) {
    await new Promise((r) => setTimeout(r, 100));
    status = await read();
  }
  const took = performance.now() - started;
  assert.equal(status, 401, `the deleted key still worked here after ${Math.round(took)} ms`);
  assert.ok(took < 6_000, `refused after ${Math.round(took)} ms`);
});
