// A project's database server stops at once (catalogue X1, `pg_ctl -m immediate stop`): every connection to it
// drops and new ones are refused. Its cluster is reached through a TCP proxy this file stops and starts again.
// Meanwhile REST, auth, storage and documents answer 503 in their own shapes, at once, with Retry-After (never a 500, never a
// crashed process); another project goes on; once the server is back every service answers on new connections,
// and every write acknowledged before the outage is there. And a statement whose session the server ends under it
// (57P01: a failover, a shutdown, an operator) is a 503 too, never a 500.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createProject, proxiedCluster, supabaseClient, testEnv, type TcpProxy, type TestProject } from '@basalt/testkit';

const env = testEnv();
let cluster: Awaited<ReturnType<typeof proxiedCluster>>;
let proxy: TcpProxy;
let p: TestProject;
let other: TestProject;
let session: string;
const email = `outage-${Date.now()}@example.com`;

before(async () => {
  cluster = await proxiedCluster('outage');
  proxy = cluster.proxy;
  [p, other] = await Promise.all([createProject('outage', { cluster: cluster.id }), createProject('outage-other')]);
  await p.sql(`create table notes (id int primary key, body text);
    create policy notes_all on notes for all to anon, authenticated using (true) with check (true);
    grant insert on notes to anon`);
  const service = supabaseClient(p, { key: p.serviceKey });
  assert.equal((await service.storage.createBucket('files', { public: false })).error, null);
  assert.equal((await service.storage.from('files').upload('a.txt', 'hello')).error, null);
  const { data, error } = await supabaseClient(p).auth.signUp({ email, password: 'outage-pass-1' });
  assert.equal(error, null);
  session = data.session!.access_token;
  // a collection that exists: a find on a missing one may be answered from the catalogue cache, without the database
  const inserted = await fetch(`${p.url}/mongo/v1/action/insertOne`, {
    method: 'POST', headers: { apikey: p.serviceKey, 'content-type': 'application/json' }, body: JSON.stringify({ collection: 'docs', document: { n: 1 } }),
  });
  assert.ok(inserted.ok, `insertOne: ${inserted.status}`);
});

after(async () => {
  await proxy?.start().catch(() => undefined);
  await p?.remove().catch(() => undefined);
  await cluster?.remove();
});

type Answer = { what: string; status: number; body: any; retryAfter: string | null; ms: number };

const call = async (what: string, url: string, headers: Record<string, string>, init: RequestInit = {}): Promise<Answer> => {
  const t0 = performance.now();
  const r = await fetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(30_000) });
  return { what, status: r.status, body: (await r.json().catch(() => null)) as any, retryAfter: r.headers.get('retry-after'), ms: performance.now() - t0 };
};

let next = 1;
const calls = (q: TestProject, token: string) => {
  const anon = { apikey: q.anonKey, authorization: `Bearer ${q.anonKey}` };
  const json = { 'content-type': 'application/json' };
  return Promise.all([
    call('rest read', `${q.url}/rest/v1/notes?select=id`, anon),
    call('rest write', `${q.url}/rest/v1/notes`, anon, { method: 'POST', headers: json, body: JSON.stringify({ id: next++, body: 'x' }) }),
    call('auth user', `${q.url}/auth/v1/user`, { apikey: q.anonKey, authorization: `Bearer ${token}` }),
    call('auth sign-in', `${q.url}/auth/v1/token?grant_type=password`, { apikey: q.anonKey }, { method: 'POST', headers: json, body: JSON.stringify({ email, password: 'outage-pass-1' }) }),
    call('storage info', `${q.url}/storage/v1/object/info/files/a.txt`, { apikey: q.serviceKey, authorization: `Bearer ${q.serviceKey}` }),
    call('documents find', `${q.url}/mongo/v1/action/find`, { apikey: q.serviceKey }, { method: 'POST', headers: json, body: JSON.stringify({ collection: 'docs', filter: {} }) }),
  ]);
};

test('a stopped database: 503s with Retry-After at once, another project goes on, all recover with every acknowledged write', async () => {
  const acked: number[] = [];
  for (const r of await calls(p, session)) assert.ok(r.status < 300, `${r.what} before: ${r.status} ${JSON.stringify(r.body)}`);
  acked.push(next - 1);

  await proxy.stop();
  for (let round = 0; round < 2; round++) {
    for (const r of await calls(p, session)) {
      assert.equal(r.status, 503, `${r.what} during: ${r.status} ${JSON.stringify(r.body)}`);
      assert.ok(r.ms < 5_000, `${r.what} answered in ${r.ms} ms`);
      assert.match(r.retryAfter ?? '', /^\d+$/, `${r.what}: Retry-After`);
    }
  }
  const answers = await calls(p, session);
  const by = Object.fromEntries(answers.map((r) => [r.what, r.body]));
  // each in its API's own shape (a crashed service would be the gateway's {message} instead): PostgREST's for a lost
  // connection, or for a schema cache it cannot load (the first request after the drop may load it again)
  assert.match(by['rest read'].code, /^PGRST00[12]$/);
  assert.equal(by['auth user'].error_code, 'unexpected_failure');
  assert.equal(by['storage info'].statusCode, '503');
  const otherRest = await call('other rest', `${other.url}/rest/v1/`, { apikey: other.anonKey });
  assert.equal(otherRest.status, 200);

  await proxy.start();
  const deadline = Date.now() + 10_000;
  let last: Answer[] = [];
  while (Date.now() < deadline) {
    last = await calls(p, session);
    if (last.every((r) => r.status < 300)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const r of last) assert.ok(r.status < 300, `${r.what} after: ${r.status} ${JSON.stringify(r.body)}`);
  acked.push(next - 1);
  const { data } = await supabaseClient(p, { key: p.serviceKey }).from('notes').select('id').order('id');
  for (const id of acked) assert.ok(data!.some((row: { id: number }) => row.id === id), `acknowledged write ${id} kept`);
});

test('a statement whose session the server terminates is a 503 with Retry-After, and the next request is served', async () => {
  const q = await createProject('outage-terminated');
  await q.sql(`create function public.slow() returns int language sql as 'select 1 from pg_sleep(3)';
    grant execute on function public.slow() to anon`);
  const [{ db }] = await q.sql<{ db: string }>('select current_database() as db');
  const anon = { apikey: q.anonKey, authorization: `Bearer ${q.anonKey}` };
  assert.equal((await call('rest', `${q.url}/rest/v1/`, anon)).status, 200);
  const slow = call('rest rpc', `${q.url}/rest/v1/rpc/slow`, anon, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const admin = new pg.Client({ connectionString: env.databaseUrl });
  await admin.connect();
  try {
    let ended = 0;
    for (let i = 0; i < 40 && ended === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { rows } = await admin.query<{ n: number }>(
        `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and query like '%slow%' and state = 'active' and pid <> pg_backend_pid()`, [db]);
      ended = rows[0].n;
    }
    assert.equal(ended, 1, 'the statement was running');
  } finally {
    await admin.end();
  }
  const r = await slow;
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.match(r.retryAfter ?? '', /^\d+$/);
  assert.equal((await call('rest', `${q.url}/rest/v1/rpc/slow`, anon, { method: 'GET' }).then(() => call('rest', `${q.url}/rest/v1/`, anon))).status, 200);
  await q.remove();
});
