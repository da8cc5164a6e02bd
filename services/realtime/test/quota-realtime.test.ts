// The plan's realtime_connections and realtime_messages_per_second through the gateway: supabase-js clients hold
// the plan's sockets, the next one is refused as Realtime refuses it ("Too many connected users", 429) naming the
// quota; broadcasts past the project's messages per second are answered with a TooManyMessages reason naming it;
// a plan change applies without a restart.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';
import { closeClients, rawSocket, rt, socketUrl, subscribed } from './helpers.js';

const env = testEnv();
const plan = `t-rt-${randomBytes(4).toString('hex')}`;
let p: TestProject;

before(async () => {
  p = await createProject('rt-quota');
  await platform(`/plans/${plan}`, { method: 'PUT', json: { quotas: { realtime_connections: 2, realtime_messages_per_second: 3 } } });
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan } });
});

after(async () => {
  await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } }).catch(() => undefined);
  await fetch(`${env.gatewayUrl}/platform/v1/plans/${plan}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
});

const refusal = (url: string) => rawSocket(url).then(
  (s) => {
    s.close();
    return null;
  },
  (e: { status: number; body: string }) => e,
);

describe('realtime plan quotas', () => {
  after(closeClients);

  it('realtime_connections: the plan\'s sockets connect, the next is refused naming the quota', async () => {
    await subscribed(rt(p).channel('room-a'));
    await subscribed(rt(p).channel('room-b'));
    const e = await refusal(socketUrl(p));
    assert.ok(e, 'a third socket was admitted');
    assert.equal(e.status, 429);
    assert.deepEqual(JSON.parse(e.body), { error: "Too many connected users: the project's plan allows 2 (realtime_connections)" });
    await closeClients();
  });

  it('realtime_messages_per_second: broadcasts past it get a TooManyMessages reason naming the quota', async () => {
    const s = (await eventually(() => rawSocket(socketUrl(p)).catch(() => null), 20_000, 200))!;
    s.send(['1', '1', 'realtime:burst', 'phx_join', { config: { broadcast: { ack: true, self: false } } }]);
    assert.equal((await s.next<any[]>((f) => f[1] === '1'))[4].status, 'ok');
    for (let i = 0; i < 12; i++) s.send(['1', `m${i}`, 'realtime:burst', 'broadcast', { type: 'broadcast', event: 'tick', payload: { i } }]);
    const refused = await s.next<any[]>((f) => f[3] === 'phx_reply' && String(f[1]).startsWith('m') && f[4].status === 'error', 10_000);
    assert.equal(refused[4].response.reason, "TooManyMessages: Too many messages per second: the project's plan allows 3 (realtime_messages_per_second)");
    s.close();
  });

  it('a plan change lifts the connection quota at once', async () => {
    await platform(`/projects/${p.ref}`, { method: 'PATCH', json: { plan: 'unlimited' } });
    await eventually(async () => {
      const sockets = await Promise.all([0, 1, 2].map(() => rawSocket(socketUrl(p)).catch(() => null)));
      for (const s of sockets) s?.close();
      return sockets.every(Boolean);
    }, 20_000, 300);
  });
});
