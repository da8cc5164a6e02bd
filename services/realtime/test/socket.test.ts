// The socket: project resolution and key/JWT refusals with Realtime's messages, heartbeats in vsn 1.0.0 and
// 2.0.0, Phoenix errors for bad frames, unknown events and unjoined topics (the socket stays up), and the
// per-project connection cap.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProject, platform, type TestProject } from '@basalt/testkit';
import { closeClients, directUrl, rawSocket, rt, socketUrl, subscribed } from './helpers.js';

let p: TestProject;
before(async () => {
  p = await createProject('rt-socket');
});

const refusal = async (url: string) => rawSocket(url).then(() => assert.fail('upgrade accepted'), (e: { status: number; body: string }) => e);

describe('realtime socket', () => {
  // inside the suite: clients go before the file's projects are deleted (a closed socket would reconnect)
  after(closeClients);

  it('answers heartbeats in vsn 2.0.0 (arrays) and 1.0.0 (objects)', async () => {
    const v2 = await rawSocket(socketUrl(p));
    v2.send([null, '1', 'phoenix', 'heartbeat', {}]);
    assert.deepEqual(await v2.next((f) => f[1] === '1'), [null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
    v2.close();
    const v1 = await rawSocket(socketUrl(p, p.anonKey, '1.0.0'));
    v1.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '7' });
    const r = await v1.next<any>((f) => f.ref === '7');
    assert.deepEqual(r, { join_ref: null, ref: '7', topic: 'phoenix', event: 'phx_reply', payload: { status: 'ok', response: {} } });
    v1.close();
  });

  it('refuses upgrades with Realtime status codes and messages', async () => {
    const cases: [string, number, string][] = [
      [directUrl(''), 404, 'Tenant not found'],
      [directUrl(p.token({ exp: Math.floor(Date.now() / 1000) - 100 })), 401, 'Token has expired'],
      [directUrl(p.token({ role: undefined as never })), 401, 'Fields `role` and `exp` are required in JWT'],
      [directUrl(p.token().slice(0, -4) + 'AAAA'), 401, 'Failed to validate JWT signature'],
    ];
    for (const [url, status, error] of cases) {
      const e = await refusal(url);
      assert.equal(e.status, status, url);
      assert.deepEqual(JSON.parse(e.body), { error });
    }
  });

  it('answers bad frames, unknown events and unjoined topics with errors while the socket stays up', async () => {
    const s = await rawSocket(socketUrl(p));
    s.send('{not json');
    s.send(Buffer.from([9, 9, 9]));
    s.send([null, '2', 'realtime:nowhere', 'broadcast', {}]);
    assert.deepEqual((await s.next<any[]>((f) => f[1] === '2'))[4], { status: 'error', response: { reason: 'unmatched topic' } });
    s.send(['3', '3', 'realtime:', 'phx_join', { config: {} }]);
    assert.deepEqual((await s.next<any[]>((f) => f[1] === '3'))[4], { status: 'error', response: { reason: 'You must provide a topic name' } });
    s.send(['4', '4', 'realtime:room', 'phx_join', { config: { broadcast: { self: true } } }]);
    assert.deepEqual((await s.next<any[]>((f) => f[1] === '4'))[4], { status: 'ok', response: {} });
    s.send(['4', '5', 'realtime:room', 'frobnicate', {}]);
    assert.equal((await s.next<any[]>((f) => f[1] === '5'))[4].status, 'error');
    s.send(['4', '6', 'realtime:room', 'phx_join', { access_token: 'garbage' }]);
    assert.match((await s.next<any[]>((f) => f[1] === '6'))[4].response.reason, /^InvalidJWTToken: /);
    s.send([null, '7', 'phoenix', 'heartbeat', {}]);
    assert.equal((await s.next<any[]>((f) => f[1] === '7'))[4].status, 'ok');
    s.close();
  });

  it('leaves a channel with phx_reply then phx_close', async () => {
    const s = await rawSocket(socketUrl(p));
    s.send(['1', '1', 'realtime:lobby', 'phx_join', { config: {} }]);
    await s.next((f) => f[1] === '1');
    s.send(['1', '2', 'realtime:lobby', 'phx_leave', {}]);
    assert.equal((await s.next<any[]>((f) => f[1] === '2' && f[3] === 'phx_reply'))[4].status, 'ok');
    await s.next((f) => f[3] === 'phx_close' && f[2] === 'realtime:lobby');
    s.close();
  });

  it('caps concurrent sockets per project with "Too many connected users"', async () => {
    const q = await createProject('rt-cap');
    await platform(`/projects/${q.ref}`, { method: 'PATCH', json: { settings: { realtime: { max_connections: 2 } } } });
    const a = await rawSocket(socketUrl(q));
    const b = await rawSocket(socketUrl(q));
    const e = await refusal(socketUrl(q));
    assert.equal(e.status, 429);
    assert.deepEqual(JSON.parse(e.body), { error: 'Too many connected users' });
    a.close();
    // the freed slot is usable again
    const { eventually } = await import('@basalt/testkit');
    const c = await eventually(() => rawSocket(socketUrl(q)).catch(() => null), 5000, 100);
    c!.close();
    b.close();
  });

  it("reports the project's connections to its owner only", async () => {
    const s = await rawSocket(socketUrl(p));
    const stats = await platform<{ connections: number }>(`/projects/${p.ref}/realtime/stats`);
    assert.ok(stats.connections >= 1);
    const { gatewayUrl } = (await import('@basalt/testkit')).testEnv();
    const anon = await fetch(`${gatewayUrl}/platform/v1/projects/${p.ref}/realtime/stats`, { headers: { authorization: `Bearer ${p.anonKey}` } });
    assert.equal(anon.status, 403);
    s.close();
  });

  it('connects the unmodified supabase-js client', async () => {
    const c = rt(p);
    await subscribed(c.channel('hello'));
  });
});
