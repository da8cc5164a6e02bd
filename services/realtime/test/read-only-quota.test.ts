// A project over its db_bytes quota is read-only, and reading goes on: a private channel's join is authorised by
// probe rows inserted and rolled back (Supabase's model), which a read-only transaction refused, so no one could
// join a private channel of such a project. The probes' transaction never commits, so it may write.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProject, eventually, overDbBytesQuota, supabaseClient, type TestProject } from '@basalt/testkit';
import { closeClients, rt, subscribed } from './helpers.js';

let p: TestProject;
const A = 'aaaaaaaa-0000-0000-0000-0000000000a1';
let undo: (() => Promise<void>) | undefined;

before(async () => {
  p = await createProject('rt-read-only');
  await p.sql(`create table notes (id int primary key);
    create policy notes_all on notes for all to anon using (true) with check (true);
    create policy members_read on realtime.messages for select to authenticated
      using (realtime.topic() = 'room-' || auth.uid()::text);
    create policy members_write on realtime.messages for insert to authenticated
      with check (realtime.topic() = 'room-' || auth.uid()::text);`);
  undo = await overDbBytesQuota(p, async () => (await supabaseClient(p).from('notes').insert({ id: 1 })).error?.code === '25006');
});

after(() => undo?.());

describe('realtime on a read-only project', () => {
  after(closeClients);

  it('admits a member to a private channel by RLS, and still refuses a stranger', async () => {
    const priv = { config: { private: true, broadcast: { ack: true, self: true } } };
    const member = rt(p, { token: p.token({ sub: A }) }).channel(`room-${A}`, priv);
    const got: unknown[] = [];
    member.on('broadcast', { event: '*' }, (m) => got.push(m.payload));
    await subscribed(member);
    assert.equal(await member.send({ type: 'broadcast', event: 'msg', payload: { t: 'hi' } }), 'ok');
    await eventually(() => got.length === 1);
    await assert.rejects(subscribed(rt(p, { token: p.token({ sub: A }) }).channel('room-other', priv)), /Unauthorized/);
    assert.deepEqual(await p.sql('select count(*)::int as n from realtime.messages'), [{ n: 0 }], 'no probe row was kept');
  });
});
