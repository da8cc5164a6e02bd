// SIGTERM with WebSockets open (catalogue X6): readiness fails at once, every socket is told 1001 "going away" (so
// clients reconnect to another replica) at the start of the drain rather than after the in-flight wait, and the
// process exits well within a pod's termination grace: open sockets no longer hold the HTTP server's close for its
// 25-second limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnService } from '@basalt/fleet';
import { createProject, testEnv } from '@basalt/testkit';
import { rawSocket } from './helpers.js';

const SOCKETS = 20;

test('a stopping realtime replica closes its sockets with 1001, fails readiness and exits promptly', async () => {
  const p = await createProject('rt-drain');
  const { url, child, exited } = await spawnService('services/realtime/src/main.ts', { ...testEnv().fleetEnv, DRAIN_DELAY_MS: '300', LOG_LEVEL: 'warn' }, 'ignore');

  const sockets = await Promise.all(Array.from({ length: SOCKETS }, async (_, i) => {
    const s = await rawSocket(`${url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${p.anonKey}&vsn=1.0.0`);
    s.send({ topic: `realtime:room-${i % 4}`, event: 'phx_join', payload: { config: {} }, ref: '1', join_ref: '1' });
    assert.equal((await s.next<{ payload: { status: string } }>((f) => f.ref === '1')).payload.status, 'ok');
    return { s, closed: new Promise<number>((r) => s.ws.once('close', (code: number) => r(code))) };
  }));

  const started = Date.now();
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await fetch(`${url}/ready`).catch(() => null))?.status, 503, 'readiness fails while draining');

  const codes = await Promise.all(sockets.map((x) => x.closed));
  assert.deepEqual(new Set(codes), new Set([1001]), 'every socket is told the server is going away');
  assert.equal(await exited, 0);
  const took = Date.now() - started;
  assert.ok(took < 5_000, `exited ${took} ms after SIGTERM`);
});
