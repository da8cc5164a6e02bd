// Two realtime replicas sharing Redis: a client on the fleet's replica (through the gateway) and one on a
// second process (direct) share broadcasts both ways and one presence state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProject, eventually, type TestProject } from '@basalt/testkit';
import { closeClients, rt, secondReplica, subscribed } from './helpers.js';

let p: TestProject;
let replica: Awaited<ReturnType<typeof secondReplica>>;
before(async () => {
  [p, replica] = await Promise.all([createProject('rt-replicas'), secondReplica()]);
});
after(() => replica?.stop());

describe('realtime across replicas', () => {
  // inside the suite: clients go before the file's projects are deleted (a closed socket would reconnect)
  after(closeClients);

  it('fans broadcasts out across replicas both ways', async () => {
    const one = rt(p).channel('xr');
    const two = rt(p, { url: replica.url }).channel('xr');
    const got1: any[] = [], got2: any[] = [];
    one.on('broadcast', { event: '*' }, (m) => got1.push(m.payload));
    two.on('broadcast', { event: '*' }, (m) => got2.push(m.payload));
    await Promise.all([subscribed(one), subscribed(two)]);
    await one.send({ type: 'broadcast', event: 'e', payload: { from: 1 } });
    await two.send({ type: 'broadcast', event: 'e', payload: { from: 2 } });
    await two.send({ type: 'broadcast', event: 'e', payload: new Uint8Array([7, 8]).buffer });
    await eventually(() => got1.length === 2 && got2.length === 1);
    assert.deepEqual(got2, [{ from: 1 }]);
    assert.deepEqual(got1[0], { from: 2 });
    assert.deepEqual([...new Uint8Array(got1[1])], [7, 8]);
    // REST on the second replica reaches the first
    const r = await fetch(`${replica.url}/realtime/v1/api/broadcast`, {
      method: 'POST', headers: { apikey: p.serviceKey, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ topic: 'xr', event: 'e', payload: { rest: true } }] }),
    });
    assert.equal(r.status, 202);
    await eventually(() => got1.length === 3 && got2.length === 2);
  });

  it('keeps one presence state across replicas', async () => {
    const one = rt(p).channel('xp', { config: { presence: { key: 'one' } } });
    const two = rt(p, { url: replica.url }).channel('xp', { config: { presence: { key: 'two' } } });
    one.on('presence', { event: 'sync' }, () => undefined);
    two.on('presence', { event: 'sync' }, () => undefined);
    await subscribed(one);
    await one.track({ at: 1 });
    await subscribed(two);
    await two.track({ at: 2 });
    const keys = (ch: any) => Object.keys(ch.presenceState()).sort().join();
    await eventually(() => keys(one) === 'one,two' && keys(two) === 'one,two');
    await two.untrack();
    await eventually(() => keys(one) === 'one');
  });
});
