// Broadcast with the unmodified supabase-js client: self and ack, other subscribers only, binary payloads
// (v2 kind-3 in, kind-4 out), vsn 1.0.0 JSON frames, REST broadcast (batch and per-topic), client publishing
// turned off by the project (ichibase's model) with user:<sub> topics only that user can join, and project
// isolation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { closeClients, rawSocket, rt, sleep, socketUrl, subscribed } from './helpers.js';

let p: TestProject;
before(async () => {
  p = await createProject('rt-broadcast');
});

function collect(ch: ReturnType<ReturnType<typeof rt>['channel']>, event = '*') {
  const got: any[] = [];
  ch.on('broadcast', { event }, (m) => got.push(m));
  return got;
}

describe('realtime broadcast', () => {
  // inside the suite: clients go before the file's projects are deleted (a closed socket would reconnect)
  after(closeClients);

  it('delivers to other subscribers, to the sender only with self, and acks', async () => {
    const a = rt(p).channel('room-1', { config: { broadcast: { self: true, ack: true } } });
    const b = rt(p).channel('room-1');
    const gotA = collect(a), gotB = collect(b, 'cursor');
    await Promise.all([subscribed(a), subscribed(b)]);
    assert.equal(await a.send({ type: 'broadcast', event: 'cursor', payload: { x: 1, y: 2 } }), 'ok');
    await eventually(() => gotA.length === 1 && gotB.length === 1);
    assert.deepEqual(gotB[0], { type: 'broadcast', event: 'cursor', payload: { x: 1, y: 2 } });
    assert.deepEqual(gotA[0].payload, { x: 1, y: 2 });
    await b.send({ type: 'broadcast', event: 'cursor', payload: { from: 'b' } });
    await eventually(() => gotA.length === 2);
    await sleep(150);
    assert.equal(gotB.length, 1, 'no echo without self');
  });

  it('relays binary payloads as bytes', async () => {
    const a = rt(p).channel('bin');
    const b = rt(p).channel('bin');
    const got = collect(b);
    await Promise.all([subscribed(a), subscribed(b)]);
    const bytes = new Uint8Array([0, 1, 2, 250, 255]).buffer;
    await a.send({ type: 'broadcast', event: 'blob', payload: bytes });
    await eventually(() => got.length === 1);
    assert.ok(got[0].payload instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(got[0].payload)], [0, 1, 2, 250, 255]);
  });

  it('speaks vsn 1.0.0 JSON broadcasts both ways', async () => {
    const s = await rawSocket(socketUrl(p, p.anonKey, '1.0.0'));
    s.send({ topic: 'realtime:v1room', event: 'phx_join', payload: { config: { broadcast: { self: true, ack: true } } }, ref: '1', join_ref: '1' });
    await s.next((f) => f.ref === '1');
    const b = rt(p).channel('v1room');
    const got = collect(b);
    await subscribed(b);
    s.send({ topic: 'realtime:v1room', event: 'broadcast', payload: { type: 'broadcast', event: 'hi', payload: { n: 1 } }, ref: '2', join_ref: '1' });
    assert.deepEqual((await s.next<any>((f) => f.ref === '2')).payload, { status: 'ok', response: {} });
    const echo = await s.next<any>((f) => f.event === 'broadcast');
    assert.deepEqual(echo.payload, { type: 'broadcast', event: 'hi', payload: { n: 1 } });
    await eventually(() => got.length === 1);
    assert.deepEqual(got[0].payload, { n: 1 });
    s.close();
  });

  it('accepts REST broadcasts (batch and per topic) with 202', async () => {
    const ch = rt(p).channel('news');
    const got = collect(ch);
    await subscribed(ch);
    const r = await fetch(`${p.url}/realtime/v1/api/broadcast`, {
      method: 'POST', headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ topic: 'news', event: 'flash', payload: { n: 1 } }, { topic: 'news', event: 'flash', payload: { n: 2 } }] }),
    });
    assert.equal(r.status, 202);
    assert.equal(await r.text(), '');
    const sender = rt(p).channel('news');
    assert.deepEqual(await sender.httpSend('flash', { n: 3 }), { success: true });
    await eventually(() => got.length === 3);
    assert.deepEqual(got.map((m) => m.payload.n), [1, 2, 3]);
    const bad = await fetch(`${p.url}/realtime/v1/api/broadcast`, {
      method: 'POST', headers: { apikey: p.anonKey, 'content-type': 'application/json' }, body: JSON.stringify({ messages: 'no' }),
    });
    assert.equal(bad.status, 400);
  });

  it('refuses oversize payloads with payload_size_exceeded', async () => {
    const q = await createProject('rt-small');
    await platform(`/projects/${q.ref}`, { method: 'PATCH', json: { settings: { realtime: { max_payload_bytes: 100 } } } });
    const ch = rt(q).channel('big', { config: { broadcast: { ack: true } } });
    await subscribed(ch);
    assert.equal(await ch.send({ type: 'broadcast', event: 'e', payload: { s: 'x'.repeat(200) } }), 'error');
    assert.equal(await ch.send({ type: 'broadcast', event: 'e', payload: { s: 'ok' } }), 'ok');
  });

  it('with client_broadcast off, clients only receive and user:<sub> topics belong to their user', async () => {
    const q = await createProject('rt-ichi');
    await platform(`/projects/${q.ref}`, { method: 'PATCH', json: { settings: { realtime: { client_broadcast: false } } } });
    const alice = '11111111-1111-1111-1111-111111111111', bob = '22222222-2222-2222-2222-222222222222';
    const inbox = rt(q, { token: q.token({ sub: alice }) }).channel(`user:${alice}`, { config: { broadcast: { ack: true } } });
    const got = collect(inbox);
    await subscribed(inbox);
    await assert.rejects(subscribed(rt(q, { token: q.token({ sub: bob }) }).channel(`user:${alice}`)),
      /Unauthorized: You do not have permissions to read from this Channel topic: user:1111/);
    await assert.rejects(subscribed(rt(q).channel(`user:${alice}`)), /Unauthorized/);
    assert.equal(await inbox.send({ type: 'broadcast', event: 'spoof', payload: {} }), 'error');
    const anonRest = await fetch(`${q.url}/realtime/v1/api/broadcast/user:${alice}/events/spoof`, {
      method: 'POST', headers: { apikey: q.anonKey, 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(anonRest.status, 403);
    const server = await fetch(`${q.url}/realtime/v1/api/broadcast`, {
      method: 'POST', headers: { apikey: q.serviceKey, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ topic: `user:${alice}`, event: 'notice', payload: { hello: 'alice' } }] }),
    });
    assert.equal(server.status, 202);
    await eventually(() => got.length === 1);
    assert.deepEqual(got[0], { type: 'broadcast', event: 'notice', payload: { hello: 'alice' } });
  });

  it("never delivers one project's messages to another's sockets", async () => {
    const other = await createProject('rt-other');
    const mine = rt(p).channel('shared-name');
    const theirs = rt(other).channel('shared-name', { config: { broadcast: { self: true, ack: true } } });
    const gotMine = collect(mine), gotTheirs = collect(theirs);
    await Promise.all([subscribed(mine), subscribed(theirs)]);
    await theirs.send({ type: 'broadcast', event: 'x', payload: { secret: 1 } });
    await fetch(`${other.url}/realtime/v1/api/broadcast`, {
      method: 'POST', headers: { apikey: other.serviceKey, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ topic: 'shared-name', event: 'x', payload: { secret: 2 } }] }),
    });
    await eventually(() => gotTheirs.length === 2);
    await sleep(200);
    assert.equal(gotMine.length, 0);
    // a key of the other project cannot open a socket on this one's path
    await assert.rejects(rawSocket(`${p.url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${other.anonKey}&vsn=2.0.0`));
  });
});
