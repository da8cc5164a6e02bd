// The REST app in-process: createApp(deps) with real Postgres, driven by app.inject() (no gateway, no rest
// process; the fleet only creates the project). Bodies by content type, errors with Proxy-Status, routing
// edges, and the request settings a statement sees (role, claims, path, time zone, search_path, read-only, timeout).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { SecretBox } from '@basalt/crypto';
import { ProjectPools } from '@basalt/db';
import { createLogger } from '@basalt/http';
import { ProjectRegistry } from '@basalt/tenancy';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { SchemaCaches } from '../src/domain/schema-cache.js';

const env = testEnv();
const control = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
const pools = new ProjectPools({ maxPerProject: 4, applicationName: 'rest-app-test' });
const caches = new SchemaCaches(5, () => undefined);
const config = loadConfig({ ...env.fleetEnv, REST_TIMEOUT_ANON_MS: '300' });
const { app } = createApp({
  config, registry: new ProjectRegistry({ control, secrets: new SecretBox(env.masterKey) }), pools, caches,
  log: createLogger('rest', 'fatal'), ready: async () => undefined,
});
let p: TestProject;

before(async () => {
  p = await createProject('rest-app');
  await p.sql(`create table notes (id int primary key, body text, meta jsonb);
    create policy a on notes using (true) with check (true);
    create function ctx() returns json language sql stable as $$ select json_build_object('role', current_user, 'sub', current_setting('request.jwt.claim.sub', true),
      'method', current_setting('request.method'), 'path', current_setting('request.path'), 'tz', current_setting('timezone'),
      'search_path', current_setting('search_path'), 'read_only', current_setting('transaction_read_only')) $$;
    create function nap() returns int language sql as $$ select 1 from pg_sleep(2) $$;
    create function write_note() returns int language sql volatile as $$ insert into notes values (99, 'x') returning id $$;`);
});
after(async () => {
  await app.close();
  await caches.closeAll();
  await pools.closeAll();
  await control.end();
});

type Init = { method?: string; body?: string; headers?: Record<string, string>; bearer?: string };
const call = (path: string, o: Init = {}) => app.inject({
  method: (o.method ?? 'GET') as 'GET', url: `/rest/v1${path}`, payload: o.body,
  headers: { 'x-basalt-ref': p.ref, apikey: p.anonKey, authorization: `Bearer ${o.bearer ?? p.anonKey}`, ...o.headers },
});

test('bodies by content type: JSON, application/*+json, a bare scalar, forms, CSV; anything else has no body', async () => {
  const cases: [string, string, string, number, string?][] = [
    ['application/json', '{"id":1,"body":"json"}', '/notes', 201],
    ['application/vnd.pgrst.object+json', '{"id":2,"body":"vnd"}', '/notes', 201],
    ['application/x-www-form-urlencoded', 'id=3&body=form', '/notes', 201],
    ['text/csv', 'id,body\n4,csv', '/notes', 201],
    ['application/json', '5', '/notes', 400, 'PGRST102'], // a bare scalar parses, then is no row
    ['application/json', '{"id":', '/notes', 400, 'PGRST102'],
    ['text/plain', 'id=6', '/notes', 400, 'PGRST102'],
    ['application/json', `{"meta":${'['.repeat(200)}${']'.repeat(200)}}`, '/notes', 400, 'PGRST102'],
  ];
  for (const [type, body, path, status, code] of cases) {
    const r = await call(path, { method: 'POST', body, headers: { 'content-type': type } });
    assert.equal(r.statusCode, status, `${type} ${body.slice(0, 20)}: ${r.body}`);
    if (code) {
      assert.equal(r.json().code, code);
      assert.equal(r.headers['proxy-status'], `PostgREST; error=${code}`);
    }
  }
  const deep = await call('/notes', { method: 'POST', body: '['.repeat(500) + ']'.repeat(500), headers: { 'content-type': 'application/json' } });
  assert.match(deep.json().message, /nested deeper/);
  assert.equal((await call('/notes', { method: 'POST', body: '{"x":', headers: { 'content-type': 'application/json' } })).json().message, 'Empty or invalid json');
  assert.deepEqual((await call('/notes?select=id,body&order=id')).json(), [{ id: 1, body: 'json' }, { id: 2, body: 'vnd' }, { id: 3, body: 'form' }, { id: 4, body: 'csv' }]);
});

test('routing edges: HEAD, unknown paths and methods, rpc methods, unknown projects and tokens', async () => {
  const head = await call('/notes?select=id', { method: 'HEAD', headers: { prefer: 'count=exact' } });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-range'], '0-3/4');
  assert.equal(head.body, '');
  const cases: [string, Init, number, string][] = [
    ['/a/b', {}, 405, 'PGRST117'],
    ['/notes', { method: 'OPTIONS' }, 405, 'PGRST117'],
    ['/rpc/ctx', { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } }, 405, 'PGRST101'],
    ['/notes', { bearer: 'a.b.c' }, 401, 'PGRST301'],
    ['/notes', { headers: { 'accept-profile': 'secret' } }, 406, 'PGRST106'],
    ['/notes', { headers: { 'x-basalt-ref': 'nosuchproject' } }, 404, 'PGRST125'],
  ];
  for (const [path, init, status, code] of cases) {
    const r = await call(path, init);
    assert.equal(r.statusCode, status, `${path} ${r.body}`);
    assert.equal(r.json().code, code);
    assert.equal(r.headers['proxy-status'], `PostgREST; error=${code}`);
  }
});

test('a statement sees the caller: role, claims, method, path, time zone, search_path, read-only', async () => {
  const user = await call('/rpc/ctx', { bearer: p.token({ sub: 'u-9' }), headers: { prefer: 'timezone=Asia/Tokyo' } });
  assert.deepEqual(user.json(), { role: 'authenticated', sub: 'u-9', method: 'GET', path: '/rpc/ctx', tz: 'Asia/Tokyo', search_path: '"public", extensions', read_only: 'on' });
  const anon = await call('/rpc/ctx', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(anon.json().role, 'anon');
  assert.equal(anon.json().read_only, 'on'); // a STABLE function runs read-only even over POST, as in PostgREST
  assert.notEqual(anon.json().tz, 'Asia/Tokyo');
  const ro = await call('/rpc/write_note');
  assert.equal(ro.statusCode, 405);
  assert.equal(ro.json().code, '25006');
  const slow = await call('/rpc/nap');
  assert.equal(slow.statusCode, 504);
  assert.equal(slow.json().code, '57014');
});
