// Project lifecycle through the gateway: create, read, keys, rotate, SQL, schema export, delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createProject, platform, testEnv } from '@basalt/testkit';

const env = testEnv();
const gw = (path: string, init: RequestInit = {}) => fetch(`${env.gatewayUrl}${path}`, init);

// how fast creation is, is measured by bench/ on a quiet machine; here only that it does not hang
test('a project is created with its own database, roles and keys', async () => {
  const started = Date.now();
  const p = await createProject('lifecycle');
  assert.ok(Date.now() - started < 30_000, `creation took ${Date.now() - started} ms`);
  const got = await platform(`/projects/${p.ref}`);
  assert.equal(got.ref, p.ref);
  assert.equal(got.name, 'lifecycle');
  assert.match(got.url, new RegExp(p.ref));
  const keys = await platform(`/projects/${p.ref}/api-keys`);
  assert.deepEqual(keys.map((k: { name: string }) => k.name), ['anon', 'service_role']);
  assert.equal(keys[0].api_key, p.anonKey);
  const list = await platform('/projects');
  assert.ok(list.some((x: { ref: string }) => x.ref === p.ref));
  const schemas = await p.sql(`select nspname from pg_namespace where nspname in ('auth','storage','memory','documents','realtime') order by 1`);
  assert.deepEqual(schemas.map((r) => r.nspname), ['auth', 'documents', 'memory', 'realtime', 'storage']);
  const roles = await p.sql(`select auth.role() as role, auth.uid() as uid`);
  assert.deepEqual(roles, [{ role: null, uid: null }]);
});

test('SQL returns the last statement rows; a Postgres error is a 400 with message and SQLSTATE', async () => {
  const p = await createProject();
  const rows = await p.sql('create table t (id int primary key, v text); insert into t values (1, $$a$$), (2, $$b$$); select * from t order by id');
  assert.deepEqual(rows, [{ id: 1, v: 'a' }, { id: 2, v: 'b' }]);
  const r = await gw(`/platform/v1/projects/${p.ref}/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'select * from nowhere' }),
  });
  assert.equal(r.status, 400);
  const body = (await r.json()) as any;
  assert.match(body.message, /relation "nowhere" does not exist/);
  assert.equal(body.details.sqlstate, '42P01');
  const bad = await gw(`/platform/v1/projects/${p.ref}/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.platformToken}`, 'content-type': 'application/json' },
    body: '{not json',
  });
  assert.equal(bad.status, 400);
});

test('new public tables have RLS on, and the schema export carries tables and policies', async () => {
  const p = await createProject();
  await p.sql(`create table notes (id bigint generated always as identity primary key, body text not null, owner uuid default auth.uid());
               create policy owner_reads on notes for select to authenticated using (owner = auth.uid())`);
  const [t] = await p.sql(`select relrowsecurity from pg_class where relname = 'notes'`);
  assert.equal(t.relrowsecurity, true);
  const r = await gw(`/platform/v1/projects/${p.ref}/schema/export`, { headers: { authorization: `Bearer ${env.platformToken}` } });
  assert.equal(r.status, 200);
  const ddl = await r.text();
  assert.match(ddl, /create table "public"\."notes"/);
  assert.match(ddl, /enable row level security/);
  assert.match(ddl, /create policy "owner_reads" on "public"\."notes"/);
});

test("a project's login cannot connect to another project's database or the control database", async () => {
  const a = await createProject();
  const b = await createProject();
  const url = new URL(env.databaseUrl);
  for (const db of [`proj_${b.ref}`, url.pathname.slice(1)]) {
    const c = new pg.Client({ host: url.hostname, port: Number(url.port || 5432), user: `proj_${a.ref}_authenticator`, database: db });
    await assert.rejects(c.connect(), /permission denied|CONNECT privilege/);
    await c.end().catch(() => undefined);
  }
});

test('delete needs the ref as confirmation and removes the database and role', async () => {
  const p = await createProject();
  const r = await gw(`/platform/v1/projects/${p.ref}`, { method: 'DELETE', headers: { authorization: `Bearer ${env.platformToken}` } });
  assert.equal(r.status, 400);
  await p.remove();
  const admin = new pg.Client({ connectionString: env.databaseUrl });
  await admin.connect();
  const dbs = await admin.query('select 1 from pg_database where datname = $1', [`proj_${p.ref}`]);
  const roles = await admin.query('select 1 from pg_roles where rolname = $1', [`proj_${p.ref}_authenticator`]);
  const rows = await admin.query('select 1 from platform.projects where ref = $1', [p.ref]);
  await admin.end();
  assert.equal(dbs.rowCount, 0);
  assert.equal(roles.rowCount, 0);
  assert.equal(rows.rowCount, 0);
  const gone = await gw(`/platform/v1/projects/${p.ref}`, { headers: { authorization: `Bearer ${env.platformToken}` } });
  assert.equal(gone.status, 404);
});

test('platform tokens: issue, use, scope to a project, revoke; no token or a wrong one is 401', async () => {
  const p = await createProject();
  const other = await createProject();
  const scoped = await platform('/tokens', { method: 'POST', json: { name: 'ci', projects: [p.ref] } });
  assert.match(scoped.token, /^bsp_/);
  const as = (token: string, path: string) => gw(`/platform/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await as(scoped.token, `/projects/${p.ref}`)).status, 200);
  assert.equal((await as(scoped.token, `/projects/${other.ref}`)).status, 403);
  const listed = (await (await as(scoped.token, "/projects")).json()) as any[];
  assert.deepEqual(listed.map((x: { ref: string }) => x.ref), [p.ref]);
  const tokens = await platform('/tokens');
  assert.ok(tokens.some((t: { id: string; token_hash?: string }) => t.id === scoped.id && t.token_hash === undefined));
  await platform(`/tokens/${scoped.id}`, { method: 'DELETE' });
  assert.equal((await as(scoped.token, `/projects/${p.ref}`)).status, 401);
  assert.equal((await gw('/platform/v1/projects')).status, 401);
  assert.equal((await as('bsp_nottherealtokenatall000000000000', '/projects')).status, 401);
});
