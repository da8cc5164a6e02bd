// SIGTERM drains: /ready turns 503 at once, an in-flight request still completes, then the process exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnService } from '@basalt/fleet';
import { createProject, testEnv } from '@basalt/testkit';

test('a stopping service fails readiness, finishes in-flight requests and exits cleanly', async () => {
  const env = testEnv();
  const project = await createProject('drain');
  const { url, child, exited } = await spawnService('services/platform/src/main.ts', { ...env.fleetEnv, DRAIN_DELAY_MS: '400', LOG_LEVEL: 'warn' });

  const slow = fetch(`${url}/platform/v1/projects/${project.ref}/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'select pg_sleep(1.2), 42 as answer' }),
  });
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const ready = await fetch(`${url}/ready`).catch(() => null);
  assert.equal(ready?.status, 503, 'readiness fails while draining');

  const r = await slow;
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), [{ pg_sleep: '', answer: 42 }]);
  const started = Date.now();
  assert.equal(await exited, 0);
  assert.ok(Date.now() - started < 5_000, 'exits once the last request is done, not at the hard timeout');
});
