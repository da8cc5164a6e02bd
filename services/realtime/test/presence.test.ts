// Presence with two supabase-js clients: track, sync, join/leave events, untrack, and a socket that goes
// away leaving its presence.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProject, eventually, type TestProject } from '@basalt/testkit';
import { closeClients, rt, subscribed } from './helpers.js';

let p: TestProject;
before(async () => {
  p = await createProject('rt-presence');
});

const keys = (ch: any) => Object.keys(ch.presenceState()).sort();

describe('realtime presence', () => {
  // inside the suite: clients go before the file's projects are deleted (a closed socket would reconnect)
  after(closeClients);

  it('shares tracked state between two clients with join and leave events', async () => {
    const a = rt(p).channel('lobby', { config: { presence: { key: 'alice' } } });
    const b = rt(p).channel('lobby', { config: { presence: { key: 'bob' } } });
    const joins: string[] = [], leaves: string[] = [];
    a.on('presence', { event: 'sync' }, () => undefined);
    a.on('presence', { event: 'join' }, ({ key }) => joins.push(key));
    a.on('presence', { event: 'leave' }, ({ key }) => leaves.push(key));
    b.on('presence', { event: 'sync' }, () => undefined);
    await subscribed(a);
    assert.equal(await a.track({ status: 'online' }), 'ok');
    await subscribed(b);
    await eventually(() => keys(b).join() === 'alice');
    assert.equal(await b.track({ status: 'typing' }), 'ok');
    await eventually(() => keys(a).join() === 'alice,bob' && keys(b).join() === 'alice,bob');
    const bobInA = (a.presenceState() as any).bob[0];
    assert.equal(bobInA.status, 'typing');
    assert.ok(bobInA.presence_ref, 'metas carry presence_ref');
    assert.deepEqual(joins.sort(), ['alice', 'bob']);

    // a re-track replaces the meta (no duplicate entries)
    await b.track({ status: 'idle' });
    await eventually(() => (a.presenceState() as any).bob?.length === 1 && (a.presenceState() as any).bob[0].status === 'idle');

    assert.equal(await b.untrack(), 'ok');
    await eventually(() => keys(a).join() === 'alice');
    assert.ok(leaves.includes('bob'));

    await b.track({ status: 'back' });
    await eventually(() => keys(a).join() === 'alice,bob');
    await b.unsubscribe();
    await eventually(() => keys(a).join() === 'alice');
  });

  it('refuses a track whose state is not an object', async () => {
    const c = rt(p).channel('lobby-2');
    await subscribed(c);
    assert.equal(await c.send({ type: 'presence', event: 'track', payload: 'nope' as never }), 'error');
  });
});
