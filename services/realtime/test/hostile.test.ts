// Hostile input from a project's clients (anyone with its anon key, some with no key at all): frames and
// handshakes that once ended the process, blocked its event loop, or left channels, presence, subscriptions and
// connection slots behind for good. The replica a crash would end is a second process, started here.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createProject, eventually, platform, testEnv, type TestProject } from '@basalt/testkit';
import { rawSocket, secondReplica, sleep, socketUrl } from './helpers.js';

let p: TestProject;
let replica: Awaited<ReturnType<typeof secondReplica>>;
before(async () => {
  [p, replica] = await Promise.all([createProject('rt-hostile'), secondReplica()]);
  await p.sql('create table public.items (id bigserial primary key, body text)');
});
after(() => replica?.stop());

const replicaSocket = (key = p.anonKey, vsn = '2.0.0') => `${replica.url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${key}&vsn=${vsn}`;
const healthy = async (url: string) => (await fetch(`${url}/health`).catch(() => null))?.ok ?? false;

/** Sends raw bytes to a service's port; resolves with what came back once the server closes (or at once when `reset`). */
async function rawTcp(url: string, request: string, reset = false): Promise<string> {
  const s = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  s.write(request);
  if (reset) {
    s.resetAndDestroy();
    return '';
  }
  return new Promise((resolve) => {
    let body = '';
    s.on('data', (d) => (body += d));
    s.on('close', () => resolve(body));
    s.on('error', () => resolve(body));
  });
}

/** A kind-3 frame: a user broadcast pushed as binary (vsn 2.0.0), JSON encoded. */
function binaryBroadcast(topic: string, event: string, json: string): Buffer {
  const t = Buffer.from(topic), e = Buffer.from(event);
  return Buffer.concat([Buffer.from([3, 1, 1, t.length, e.length, 0, 1]), Buffer.from('1'), Buffer.from('2'), t, e, Buffer.from(json)]);
}

const triggers = async () => (await p.sql<{ n: number }>(`select count(*)::int as n from pg_trigger where tgname = 'realtime_capture'`))[0].n;

describe('realtime under hostile input', () => {
  it('survives upgrades to an unknown path whose client resets the connection', async () => {
    // no key needed: the path is refused before any; a replica of its own, so no other test depends on the outcome
    const own = await secondReplica();
    try {
      const request = 'GET /nowhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
      for (let i = 0; i < 20; i++) await rawTcp(own.url, request, true);
      await sleep(500);
      assert.ok(await healthy(own.url), 'the replica is still up');
    } finally {
      await own.stop();
    }
  });

  it('gives the connection slot back when the WebSocket handshake itself is refused', async () => {
    const q = await createProject('rt-hostile-slots');
    const request = `GET /realtime/v1/websocket?apikey=${q.anonKey}&vsn=2.0.0 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n`
      + 'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: not-a-key\r\n\r\n';
    for (let i = 0; i < 3; i++) assert.match(await rawTcp(testEnv().services.realtime, request), /^HTTP\/1\.1 400 /);
    await sleep(300);
    const stats = await platform<{ connections: number }>(`/projects/${q.ref}/realtime/stats`);
    assert.equal(stats.connections, 0);
  });

  it('survives a broadcast nested too deep for a vsn 1.0.0 client on another replica', async () => {
    const remote = await rawSocket(replicaSocket(p.anonKey, '1.0.0'));
    remote.send({ topic: 'realtime:deep', event: 'phx_join', payload: { config: {} }, ref: '1', join_ref: '1' });
    assert.equal((await remote.next<any>((f) => f.ref === '1')).payload.status, 'ok');
    const local = await rawSocket(socketUrl(p));
    local.send(['1', '1', 'realtime:deep', 'phx_join', { config: {} }]);
    await local.next((f) => f[1] === '1');
    // valid JSON (it is parsed on the way in), but JSON.stringify runs out of stack re-encoding it for vsn 1.0.0
    local.send(binaryBroadcast('realtime:deep', 'deep', '['.repeat(20_000) + ']'.repeat(20_000)));
    local.send(['1', '3', 'realtime:deep', 'broadcast', { type: 'broadcast', event: 'after', payload: { n: 1 } }]);
    const got = await remote.next<any>((f) => f.event === 'broadcast' && f.payload.event === 'after');
    assert.deepEqual(got.payload.payload, { n: 1 });
    assert.ok(await healthy(replica.url));
    local.close();
    remote.close();
  });

  it('refuses joins past the channel cap even when they arrive together', async () => {
    const s = await rawSocket(socketUrl(p));
    // REALTIME_MAX_CHANNELS_PER_SOCKET is 100 by default; all 150 frames arrive before the first join completes
    for (let i = 0; i < 150; i++) s.ws.send(JSON.stringify([String(i), String(i), `realtime:cap-${i}`, 'phx_join', { config: {} }]));
    const replies = (await eventually(() => {
      const r: any[][] = s.frames.map((f) => JSON.parse(f as string)).filter((f) => f[3] === 'phx_reply');
      return r.length === 150 ? r : null;
    }, 10_000)) as any[][];
    const reasons = replies.filter((f) => f[4].status === 'error').map((f) => f[4].response.reason);
    assert.equal(replies.filter((f) => f[4].status === 'ok').length, 100, [...new Set(reasons)].join('; '));
    const refused = replies.filter((f) => f[4].status === 'error');
    assert.equal(refused.length, 50);
    assert.ok(refused.every((f) => f[4].response.reason === 'ChannelRateLimitReached: Too many channels'));
    s.close();
  });

  it('leaves no channel, subscription or capture behind when a topic is joined twice at once', async () => {
    const redis = new Redis(testEnv().redisUrl);
    const subscribed = () => redis.pubsub('CHANNELS', `${testEnv().fleetEnv.BASALT_REDIS_PREFIX ?? ''}rt:b:${p.ref}:u:twice`) as Promise<string[]>;
    try {
      const s = await rawSocket(socketUrl(p, p.serviceKey));
      const join = (ref: string) => JSON.stringify([ref, ref, 'realtime:twice', 'phx_join', { config: { postgres_changes: [{ event: '*', schema: 'public', table: 'items' }] } }]);
      s.ws.send(join('1'));
      s.ws.send(join('2'));
      assert.equal((await s.next<any[]>((f) => f[1] === '2' && f[3] === 'phx_reply'))[4].status, 'ok');
      await eventually(async () => (await triggers()) === 1);
      s.ws.terminate();
      // the capture lingers REALTIME_CAPTURE_LINGER_MS (5 s) after its last subscriber
      await eventually(async () => (await subscribed()).length === 0 && (await triggers()) === 0, 20_000, 200);
    } finally {
      redis.disconnect();
    }
  });

  it('drops the presence of a channel that leaves while its track is being stored', async () => {
    const a = await rawSocket(socketUrl(p));
    a.send(['1', '1', 'realtime:ghost', 'phx_join', { config: { presence: { key: 'ghost' } } }]);
    await a.next((f) => f[1] === '1');
    a.ws.send(JSON.stringify(['1', '2', 'realtime:ghost', 'presence', { type: 'presence', event: 'track', payload: { here: true } }]));
    a.ws.send(JSON.stringify(['1', '3', 'realtime:ghost', 'phx_leave', {}]));
    await a.next((f) => f[3] === 'phx_close');
    await sleep(500);
    a.close();
    const b = await rawSocket(socketUrl(p));
    b.send(['1', '1', 'realtime:ghost', 'phx_join', { config: {} }]);
    assert.deepEqual((await b.next<any[]>((f) => f[3] === 'presence_state'))[4], {});
    b.close();
  });

  it('keeps presence working for keys named like members of Object.prototype', async () => {
    const sockets = [];
    for (const key of ['toString', '__proto__']) {
      const s = await rawSocket(socketUrl(p));
      s.send(['1', '1', 'realtime:proto', 'phx_join', { config: { presence: { key } } }]);
      await s.next((f) => f[1] === '1');
      s.send(['1', '2', 'realtime:proto', 'presence', { type: 'presence', event: 'track', payload: { key } }]);
      assert.equal((await s.next<any[]>((f) => f[1] === '2'))[4].status, 'ok');
      sockets.push(s);
    }
    const b = await rawSocket(socketUrl(p));
    b.send(['1', '1', 'realtime:proto', 'phx_join', { config: {} }]);
    assert.equal((await b.next<any[]>((f) => f[1] === '1'))[4].status, 'ok');
    const state = (await b.next<any[]>((f) => f[3] === 'presence_state'))[4];
    assert.deepEqual(Object.keys(state).sort(), ['__proto__', 'toString']);
    await sleep(200);
    assert.equal(b.frames.length, 0, `no error after the join: ${b.frames.join()}`);
    for (const s of [...sockets, b]) s.close();
  });

  it('refuses topics and join payloads too large to hold for the life of a channel', async () => {
    const s = await rawSocket(socketUrl(p));
    s.send(['1', '1', `realtime:${'t'.repeat(201)}`, 'phx_join', { config: {} }]);
    assert.deepEqual((await s.next<any[]>((f) => f[1] === '1'))[4], { status: 'error', response: { reason: 'TopicNameTooLong: Topic names are at most 200 bytes' } });
    s.send(['2', '2', `realtime:${'t'.repeat(200)}`, 'phx_join', { config: {} }]);
    assert.equal((await s.next<any[]>((f) => f[1] === '2'))[4].status, 'ok');
    s.send(['3', '3', 'realtime:big-key', 'phx_join', { config: { presence: { key: 'k'.repeat(100_000) } } }]);
    assert.deepEqual((await s.next<any[]>((f) => f[1] === '3'))[4], { status: 'error', response: { reason: 'InvalidJoinPayload: A join payload is at most 65536 bytes' } });
    s.close();
  });

  it('keeps answering heartbeats while it parses a join whose filter is all commas', async () => {
    const s = await rawSocket(socketUrl(p));
    const other = await rawSocket(socketUrl(p));
    s.send(['1', '1', 'realtime:commas', 'phx_join', { config: { postgres_changes: [{ event: '*', schema: 'public', table: 'items', filter: ','.repeat(60_000) }] } }]);
    await sleep(50);
    const started = Date.now();
    other.send([null, '9', 'phoenix', 'heartbeat', {}]);
    await other.next((f) => f[1] === '9', 30_000);
    assert.ok(Date.now() - started < 1000, `heartbeat answered after ${Date.now() - started} ms`);
    assert.match((await s.next<any[]>((f) => f[1] === '1', 30_000))[4].response.reason, /^Error parsing `filter` params: /);
    s.close();
    other.close();
  });
});
