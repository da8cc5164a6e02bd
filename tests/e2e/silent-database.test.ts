// A project whose database stops answering (a frozen server, a black-holed network), end to end: its cluster is
// reached through a TCP proxy that this file stalls. REST, auth and storage answer 503 in their own shapes within a
// bound (REST: the role's statement timeout and a grace; auth and storage: DATABASE_SILENCE_MS, 8 s under test)
// rather than hanging until the gateway gives up; other projects are unaffected meanwhile; and once the database
// answers again, so does every service, on new connections.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createProject, platform, supabaseClient, tcpProxy, testEnv, type TcpProxy, type TestProject } from '@basalt/testkit';

const env = testEnv();
const clusterId = `silent-${randomBytes(4).toString('hex')}`;
let proxy: TcpProxy;
let p: TestProject;
let other: TestProject;
let session: string;

before(async () => {
  const url = new URL(env.databaseUrl);
  proxy = await tcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  const admin = Object.assign(new URL(url), { host: `${proxy.host}:${proxy.port}`, pathname: '/postgres' }).toString();
  // kept out of automatic placement: no other file's project lands behind this proxy
  await platform('/clusters', { method: 'POST', json: { id: clusterId, admin_url: admin, accepts_new_projects: false } });
  [p, other] = await Promise.all([createProject('silent', { cluster: clusterId }), createProject('silent-other')]);
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
  await platform(`/clusters/${clusterId}`, { method: 'DELETE' }).catch(() => undefined);
  await proxy?.close();
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
