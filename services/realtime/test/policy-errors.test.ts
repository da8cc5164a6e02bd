// A policy on realtime.messages that raises (a topic cast to uuid that is not one, a function that throws) refuses
// the caller with Supabase Realtime's own "Unauthorized" reason, on a join, a broadcast over the socket and one over
// HTTP; it is not reported as a database realtime could not reach.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createProject, type TestProject } from '@basalt/testkit';
import { closeClients, rawSocket, socketUrl } from './helpers.js';

let p: TestProject;
const A = 'aaaaaaaa-0000-0000-0000-0000000000a1';

before(async () => {
  p = await createProject('rt-policy-errors');
  // member:<uuid> topics are their user's; `room:` topics anyone signed in reads, and sending to a closed one raises
  await p.sql(`create function public.may_send(topic text) returns boolean language plpgsql as $$
      begin
        if topic like '%:closed' then raise exception 'sending to % is closed', topic; end if;
        return true;
      end $$;
    create policy read_own on realtime.messages for select to authenticated
      using (case when realtime.topic() like 'member:%' then split_part(realtime.topic(), ':', 2)::uuid = auth.uid() else true end);
    create policy send on realtime.messages for insert to authenticated with check (public.may_send(realtime.topic()));`);
});
after(closeClients);

/** the reply to a frame sent on a fresh raw socket, after joining `topic` when the frame is not the join itself */
async function reply(topic: string, frame?: [string, unknown]) {
  const s = await rawSocket(socketUrl(p));
  try {
    s.send(['1', '1', `realtime:${topic}`, 'phx_join', { config: { private: true, broadcast: { ack: true } }, access_token: p.token({ sub: A }) }]);
    const joined = (await s.next<any[]>((f) => f[1] === '1'))[4];
    if (!frame) return joined;
    assert.equal(joined.status, 'ok', JSON.stringify(joined));
    s.send(['1', '2', `realtime:${topic}`, frame[0], frame[1]]);
    return (await s.next<any[]>((f) => f[1] === '2'))[4];
  } finally {
    s.close();
  }
}

test('a join whose read policy raises is refused as unauthorized', async () => {
  assert.deepEqual(await reply('member:not-a-uuid'), {
    status: 'error', response: { reason: 'Unauthorized: You do not have permissions to read from this Channel topic: member:not-a-uuid' },
  });
  // the same policy admits its user when it does not raise
  assert.equal((await reply(`member:${A}`)).status, 'ok');
});

test('a broadcast whose write policy raises is refused as unauthorized, over the socket and over HTTP', async () => {
  assert.equal((await reply('room:open', ['broadcast', { type: 'broadcast', event: 'm', payload: {} }])).status, 'ok');
  assert.deepEqual(await reply('room:closed', ['broadcast', { type: 'broadcast', event: 'm', payload: {} }]), {
    status: 'error', response: { reason: 'Unauthorized: You do not have permissions to write to this Channel topic: room:closed' },
  });
  const send = (topic: string) => fetch(`${p.url}/realtime/v1/api/broadcast`, {
    method: 'POST',
    headers: { apikey: p.anonKey, authorization: `Bearer ${p.token({ sub: A })}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ topic, event: 'm', payload: {}, private: true }] }),
  });
  assert.equal((await send('room:open')).status, 202);
  const refused = await send('room:closed');
  assert.equal(refused.status, 403);
  assert.match(((await refused.json()) as { message: string }).message, /You do not have permissions to write to this Channel topic: room:closed/);
});
