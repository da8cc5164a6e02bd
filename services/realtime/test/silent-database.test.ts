// A project's database that stops answering while sockets join its private channels: each join waiting on it is
// answered with an error after DATABASE_SILENCE_MS (8 s under test) rather than never, another project's joins go
// on meanwhile, and once the database answers the project's joins are admitted again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createProject, proxiedCluster, type TestProject } from '@basalt/testkit';
import { rawSocket, socketUrl } from './helpers.js';

let cluster: Awaited<ReturnType<typeof proxiedCluster>>;
let p: TestProject;
let other: TestProject;
const A = 'aaaaaaaa-0000-0000-0000-0000000000a1';

before(async () => {
  cluster = await proxiedCluster('rt-silent');
  [p, other] = await Promise.all([createProject('rt-silent', { cluster: cluster.id }), createProject('rt-silent-other')]);
  for (const q of [p, other]) {
    await q.sql(`create policy read_all on realtime.messages for select to authenticated using (true)`);
  }
});

after(async () => {
  cluster?.proxy.resume();
  await p?.remove().catch(() => undefined);
  await cluster?.remove();
});

/** a private join's reply, and how long it took */
async function join(q: TestProject, topic: string, timeoutMs: number) {
  const s = await rawSocket(socketUrl(q));
  const t0 = performance.now();
  s.send(['1', '1', `realtime:${topic}`, 'phx_join', { config: { private: true }, access_token: q.token({ sub: A }) }]);
  try {
    const reply = await s.next<any[]>((f) => f[1] === '1', timeoutMs).catch(() => null);
    return { status: reply?.[4]?.status as string | undefined, response: reply?.[4]?.response, ms: performance.now() - t0 };
  } finally {
    s.close();
  }
}

test("a silent database's private joins are answered with an error after the bound; other projects' are not held", async () => {
  // the project's pool holds an idle connection when the database goes silent (the join's own follow-up queries done)
  assert.equal((await join(p, 'room', 5_000)).status, 'ok');
  await new Promise((r) => setTimeout(r, 1_500));
  cluster.proxy.state.stalled = true;
  try {
    const waiting = join(p, 'room', 20_000);
    const elsewhere = await join(other, 'room', 5_000);
    assert.equal(elsewhere.status, 'ok');
    assert.ok(elsewhere.ms < 2_000, `another project's join took ${elsewhere.ms} ms`);
    const r = await waiting;
    assert.equal(r.status, 'error', `the join waiting on the silent database: ${JSON.stringify(r)}`);
    assert.equal(r.response?.reason, 'UnableToConnectToProject: Realtime was unable to connect to the project database');
    // after the silence bound on that idle connection, or the pool's 5 s connect timeout on a new one
    assert.ok(r.ms < 8_000 + 4_000, `answered after ${r.ms} ms`);
  } finally {
    cluster.proxy.resume();
  }
  assert.equal((await join(p, 'room', 10_000)).status, 'ok', 'admitted again once it answers');
});
