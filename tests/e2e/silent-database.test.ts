// A project whose database stops answering (a frozen server, a black-holed network), end to end: its cluster is
// reached through a TCP proxy that this file stalls. REST, auth and storage answer 503 in their own shapes within a
// bound (REST: the role's statement timeout and a grace; auth and storage: DATABASE_SILENCE_MS, 8 s under test)
// rather than hanging until the gateway gives up; other projects are unaffected meanwhile; and once the database
// answers again, so does every service, on new connections. Cron goes on for every other project meanwhile: the
// silent project's runs fail after their timeout and a grace, never holding the scheduler's workers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createProject, proxiedCluster, supabaseClient, type TcpProxy, type TestProject } from '@basalt/testkit';

let cluster: Awaited<ReturnType<typeof proxiedCluster>>;
let proxy: TcpProxy;
let p: TestProject;
let other: TestProject;
let session: string;

before(async () => {
  cluster = await proxiedCluster('silent');
  proxy = cluster.proxy;
  [p, other] = await Promise.all([createProject('silent', { cluster: cluster.id }), createProject('silent-other')]);
  await p.sql(`create table notes (id int primary key, body text);
    create policy notes_read on notes for select to anon, authenticated using (true);
    insert into notes values (1, 'kept')`);
  const sb = supabaseClient(p);
  const service = supabaseClient(p, { key: p.serviceKey });
  assert.equal((await service.storage.createBucket('files', { public: false })).error, null);
  assert.equal((await service.storage.from('files').upload('a.txt', 'hello')).error, null);
  const { data, error } = await sb.auth.signUp({ email: `silent-${Date.now()}@example.com`, password: 'silent-pass-1' });
  assert.equal(error, null);
  session = data.session!.access_token;
});

after(async () => {
  proxy?.resume();
  await p?.remove().catch(() => undefined);
  await cluster?.remove();
});

const timed = async (what: string, url: string, headers: Record<string, string>) => {
  const t0 = performance.now();
  const r = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  return { what, status: r.status, body: (await r.json().catch(() => null)) as any, ms: performance.now() - t0 };
};

const calls = (q: TestProject, token: string) => [
  timed('rest', `${q.url}/rest/v1/notes?select=body`, { apikey: q.anonKey, authorization: `Bearer ${q.anonKey}` }),
  timed('auth', `${q.url}/auth/v1/user`, { apikey: q.anonKey, authorization: `Bearer ${token}` }),
  timed('storage', `${q.url}/storage/v1/object/info/files/a.txt`, { apikey: q.serviceKey, authorization: `Bearer ${q.serviceKey}` }),
];

test('a silent database: REST, auth and storage answer 503 within their bounds, other projects go on, and all recover', async () => {
  // every service has an idle connection to the project's database before it goes silent
  for (const r of await Promise.all(calls(p, session))) assert.equal(r.status, 200, `${r.what} before: ${JSON.stringify(r.body)}`);

  proxy.state.stalled = true;
  const during = Promise.all(calls(p, session));
  // meanwhile another project answers as usual
  const otherRest = await timed('other rest', `${other.url}/rest/v1/`, { apikey: other.anonKey });
  assert.equal(otherRest.status, 200);
  assert.ok(otherRest.ms < 2_000, String(otherRest.ms));
  const [rest, auth, storage] = await during;
  proxy.resume();

  // PostgREST's answer for a database it lost
  assert.equal(rest.status, 503, JSON.stringify(rest.body));
  assert.equal(rest.body.code, 'PGRST001');
  assert.ok(rest.ms < 3_000 + 5_000 + 2_000, `rest: ${rest.ms} ms`);
  // GoTrue's error shape (a code of its own list: a 5xx is unexpected_failure), storage's
  assert.equal(auth.status, 503, JSON.stringify(auth.body));
  assert.deepEqual([auth.body.code, auth.body.error_code], [503, 'unexpected_failure']);
  assert.match(auth.body.msg, /did not answer within 8000 ms/);
  assert.equal(storage.status, 503, JSON.stringify(storage.body));
  assert.equal(storage.body.statusCode, '503');
  for (const r of [auth, storage]) assert.ok(r.ms >= 7_500 && r.ms < 8_000 + 2_500, `${r.what}: ${r.ms} ms`);

  // it answers again: every service, on new connections
  for (const r of await Promise.all(calls(p, session))) assert.equal(r.status, 200, `${r.what} after: ${JSON.stringify(r.body)}`);
});

const cron = async (q: TestProject, path: string, json?: unknown) => {
  const r = await fetch(`${q.url}/cron/admin/v1${path}`, {
    method: json === undefined ? 'GET' : 'POST',
    headers: { apikey: q.serviceKey, authorization: `Bearer ${q.serviceKey}`, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return (await r.json()) as any;
};

test("a silent database's cron runs fail after their bound, and every other project's cron goes on", async () => {
  for (const q of [p, other]) {
    await q.sql(`create table ticks (id bigint generated always as identity primary key, at timestamptz default now());
      create function tick() returns void language sql as $$ insert into ticks default values $$;`);
  }
  // the silent project's one job finds its pool's idle connection, and waits on it, when the database goes silent;
  // the runs after it need new connections, which time out after 5 s
  const jobs = (q: TestProject, n: number) => Promise.all(Array.from({ length: n }, (_, i) => cron(q, '/jobs', { name: `tick-${i}`, schedule: '* * * * * *', target: { type: 'db_function', name: 'tick' }, timeout_ms: 1000 })));
  const [[silentJob]] = await Promise.all([jobs(p, 1), jobs(other, 3)]);
  await new Promise((r) => setTimeout(r, 2_500));

  proxy.state.stalled = true;
  const count = async () => Number((await other.sql<{ n: string }>('select count(*) as n from ticks'))[0].n);
  const before = await count();
  await new Promise((r) => setTimeout(r, 20_000));
  const during = (await count()) - before;
  const runs = (await cron(p, `/jobs/${silentJob.id}/runs`)) as { status: string; scheduled_at: string; error: string | null }[];
  proxy.resume();

  // three jobs a second for 20 s: the other project's ran on
  assert.ok(during >= 3 * 16, `${during} runs of the other project's jobs in 20 s`);
  // the run that was waiting on the silent connection failed after its timeout and the grace (it waited for good,
  // its worker with it: eight such, from as many projects of a silent cluster, and no project's cron ran)
  assert.ok(runs.some((r) => r.status === 'failed' && /did not answer within 6000 ms/.test(r.error ?? '')), JSON.stringify(runs.slice(-5)));
  const stuck = runs.filter((r) => r.status === 'running' && Date.now() - Date.parse(r.scheduled_at) > 12_000);
  assert.deepEqual(stuck, [], 'no run waits past its bound');
});
