// Private channels authorised by RLS on realtime.messages with realtime.topic(), realtime.send() from SQL,
// replay of stored broadcasts, access_token refresh, shutdown at token expiry, and the join rate limit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProject, eventually, platform, type TestProject } from '@basalt/testkit';
import { closeClients, rawSocket, rt, sleep, socketUrl, subscribed } from './helpers.js';

let p: TestProject;
const A = 'aaaaaaaa-0000-0000-0000-0000000000a1', B = 'bbbbbbbb-0000-0000-0000-0000000000b1';
before(async () => {
  p = await createProject('rt-private');
  // members may read a room's messages; only writers may send
  await p.sql(`create table public.members (room text, user_id uuid, writer boolean default false);
    insert into public.members values ('room-a', '${A}', true), ('room-a', '${B}', false);
    create policy members_read on realtime.messages for select to authenticated
      using (exists (select 1 from public.members m where m.room = realtime.topic() and m.user_id = auth.uid()));
    create policy members_write on realtime.messages for insert to authenticated
      with check (exists (select 1 from public.members m where m.room = realtime.topic() and m.user_id = auth.uid() and m.writer));
    grant select on public.members to authenticated;
    alter table public.members disable row level security;`);
});

const priv = (opts: Record<string, unknown> = {}) => ({ config: { private: true, broadcast: { ack: true, self: true }, ...opts } });

describe('realtime private channels', () => {
  // inside the suite: clients go before the file's projects are deleted (a closed socket would reconnect)
  after(closeClients);

  it('admits readers by RLS and lets only writers send', async () => {
    const a = rt(p, { token: p.token({ sub: A }) }).channel('room-a', priv());
    const b = rt(p, { token: p.token({ sub: B }) }).channel('room-a', priv());
    const got: any[] = [];
    b.on('broadcast', { event: '*' }, (m) => got.push(m.payload));
    await Promise.all([subscribed(a), subscribed(b)]);
    await assert.rejects(subscribed(rt(p, { token: p.token({ sub: A }) }).channel('room-b', priv())),
      /Unauthorized: You do not have permissions to read from this Channel topic: room-b/);
    await assert.rejects(subscribed(rt(p).channel('room-a', priv())), /Unauthorized/);
    assert.equal(await a.send({ type: 'broadcast', event: 'msg', payload: { t: 'hi' } }), 'ok');
    assert.equal(await b.send({ type: 'broadcast', event: 'msg', payload: { t: 'nope' } }), 'error');
    await eventually(() => got.length === 1);
    assert.deepEqual(got, [{ t: 'hi' }]);
    // a public channel of the same name is another channel
    const pub = rt(p).channel('room-a', { config: { broadcast: { ack: true } } });
    await subscribed(pub);
    await pub.send({ type: 'broadcast', event: 'msg', payload: { t: 'public' } });
    await sleep(150);
    assert.equal(got.length, 1);
  });

  it('delivers realtime.send() from SQL at commit, and replays stored private broadcasts', async () => {
    const b = rt(p, { token: p.token({ sub: B }) }).channel('room-a', priv());
    const open = rt(p).channel('open-room');
    const gotB: any[] = [], gotOpen: any[] = [];
    b.on('broadcast', { event: 'db' }, (m) => gotB.push(m));
    open.on('broadcast', { event: 'db' }, (m) => gotOpen.push(m));
    await Promise.all([subscribed(b), subscribed(open)]);
    const since = Date.now() - 1000;
    // a transaction that fails sends nothing
    await assert.rejects(p.sql(`do $$ begin perform realtime.send('{"n":3}', 'db', 'open-room', false); raise exception 'abort'; end $$`));
    await p.sql(`select realtime.send('{"n":1}', 'db', 'room-a'); select realtime.send('{"n":2}', 'db', 'open-room', false);
      select realtime.send(jsonb_build_object('big', repeat('z', 9000)), 'db', 'open-room', false);`);
    await eventually(() => gotB.length === 1 && gotOpen.length === 2);
    assert.deepEqual(gotB[0].payload, { n: 1 });
    assert.ok(gotB[0].meta?.id, 'stored messages carry their id');
    assert.deepEqual(gotOpen[0].payload, { n: 2 });
    assert.equal(gotOpen[1].payload.big.length, 9000);

    const late = rt(p, { token: p.token({ sub: B }) }).channel('room-a', priv({ broadcast: { replay: { since, limit: 10 } } }));
    const replayed: any[] = [];
    late.on('broadcast', { event: '*' }, (m) => replayed.push(m));
    await subscribed(late);
    await eventually(() => replayed.length >= 1);
    assert.deepEqual(replayed[0].payload, { n: 1 });
    assert.equal(replayed[0].meta.replayed, true);
  });

  it('shuts a channel down when its token expires, and keeps it when refreshed in time', async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const token = p.token({ sub: A, exp: now() + 2 });
    const c = rt(p, { token: () => token });
    const statuses: string[] = [];
    const ch = c.channel('room-a', priv());
    const system: any[] = [];
    ch.on('system', {}, (m) => system.push(m));
    ch.subscribe((s) => statuses.push(s));
    await eventually(() => statuses.includes('SUBSCRIBED'));
    await eventually(() => statuses.includes('CLOSED'), 6000);
    assert.ok(system.some((m) => /Token has expired/.test(m.message)), JSON.stringify(system));

    const s = await rawSocket(socketUrl(p));
    s.send(['1', '1', 'realtime:room-a', 'phx_join', { config: { private: true }, access_token: p.token({ sub: A, exp: now() + 2 }) }]);
    assert.equal((await s.next<any[]>((f) => f[1] === '1'))[4].status, 'ok');
    s.send(['1', '2', 'realtime:room-a', 'access_token', { access_token: p.token({ sub: A, exp: now() + 60 }) }]);
    assert.equal((await s.next<any[]>((f) => f[1] === '2'))[4].status, 'ok');
    await sleep(3000);
    assert.ok(!s.frames.some((f) => typeof f === 'string' && f.includes('phx_close')), 'refreshed channel stays open');
    // a refresh to a user who may not read the topic closes it
    s.send(['1', '3', 'realtime:room-a', 'access_token', { access_token: p.token({ sub: '99999999-0000-0000-0000-000000000000' }) }]);
    await s.next((f) => f[3] === 'system' && /no longer have permission/.test(f[4].message));
    await s.next((f) => f[3] === 'phx_close');
    s.close();
  });

  it('limits joins per second with ClientJoinRateLimitReached', async () => {
    const q = await createProject('rt-joins');
    await platform(`/projects/${q.ref}`, { method: 'PATCH', json: { settings: { realtime: { max_joins_per_second: 3 } } } });
    const s = await rawSocket(socketUrl(q));
    for (let i = 1; i <= 6; i++) s.send([String(i), String(i), `realtime:t${i}`, 'phx_join', { config: {} }]);
    const replies = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => s.next<any[]>((f) => f[1] === String(i))));
    const errors = replies.filter((r) => r[4].status === 'error');
    assert.ok(errors.length >= 2, JSON.stringify(replies));
    assert.equal(errors[0][4].response.reason, 'ClientJoinRateLimitReached: Too many joins per second');
    s.close();
  });
});
