// Bad JSON never reaches a 500: a deeply nested or oversized body is a 4xx in each API's own error shape, and
// nothing is written. One test per entry point, so one failure cannot hide another.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, testEnv, type TestProject } from '@basalt/testkit';

const env = testEnv();
let p: TestProject;
before(async () => {
  p = await createProject('bad-json');
  await p.sql(`create table notes (id bigint generated always as identity primary key, body jsonb);
    create policy anyone on notes for all to anon using (true) with check (true);`);
});

/** a value nested `n` levels deep, as JSON text */
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

interface Case {
  name: string;
  path: () => string;
  method?: string;
  key: () => string;
  body: string;
  expect: { status: number; shape: (b: any) => boolean };
}

const postgrest = (b: any) => b.code === 'PGRST102' && /nested deeper/.test(b.message) && 'hint' in b && 'details' in b;
const gotrue = (b: any) => b.code === 400 && b.error_code === 'bad_json' && /nested deeper/.test(b.msg);
const basalt = (b: any) => b.code === 'invalid_json' && /nested deeper/.test(b.message);
const storage = (b: any) => b.statusCode === '400' && /nested deeper/.test(b.message);

const cases: Case[] = [
  { name: 'REST insert', path: () => `${p.url}/rest/v1/notes`, key: () => p.anonKey, body: `{"body":${deep(5000)}}`, expect: { status: 400, shape: postgrest } },
  { name: 'REST insert, 100k levels', path: () => `${p.url}/rest/v1/notes`, key: () => p.anonKey, body: deep(100_000), expect: { status: 400, shape: postgrest } },
  { name: 'REST rpc', path: () => `${p.url}/rest/v1/rpc/nothing`, key: () => p.anonKey, body: deepObject(3000), expect: { status: 400, shape: postgrest } },
  { name: 'auth signup data', path: () => `${p.url}/auth/v1/signup`, key: () => p.anonKey, body: `{"email":"deep@x.test","password":"pass-word-1","data":${deepObject(5000)}}`, expect: { status: 400, shape: gotrue } },
  { name: 'auth admin user_metadata', path: () => `${p.url}/auth/v1/admin/users`, key: () => p.serviceKey, body: `{"email":"deep2@x.test","user_metadata":${deepObject(5000)}}`, expect: { status: 400, shape: gotrue } },
  { name: 'platform settings', path: () => `${env.gatewayUrl}/platform/v1/projects/${p.ref}`, method: 'PATCH', key: () => env.platformToken, body: `{"settings":${deepObject(5000)}}`, expect: { status: 400, shape: basalt } },
  { name: 'cron job', path: () => `${p.url}/cron/admin/v1/jobs`, key: () => p.serviceKey, body: `{"name":"x","schedule":"* * * * *","target":{"type":"db_function","name":"f","args":${deepObject(5000)}}}`, expect: { status: 400, shape: basalt } },
  { name: 'storage bucket', path: () => `${p.url}/storage/v1/bucket`, key: () => p.serviceKey, body: `{"name":"deep","allowed_mime_types":${deep(5000)}}`, expect: { status: 400, shape: storage } },
  { name: 'functions deploy', path: () => `${env.gatewayUrl}/platform/v1/projects/${p.ref}/functions`, key: () => env.platformToken, body: `{"slug":"deep","import_map":${deepObject(5000)}}`, expect: { status: 400, shape: basalt } },
];

for (const c of cases) {
  test(`deeply nested JSON: ${c.name} → ${c.expect.status} in the API's shape`, async () => {
    const key = c.key();
    const r = await fetch(c.path(), {
      method: c.method ?? 'POST',
      headers: { apikey: key.startsWith('bsp_') ? '' : key, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: c.body,
    });
    const text = await r.text();
    assert.equal(r.status, c.expect.status, text.slice(0, 300));
    assert.ok(c.expect.shape(JSON.parse(text)), text.slice(0, 300));
  });
}

test('nothing was written by the refused bodies', async () => {
  assert.deepEqual(await p.sql('select count(*)::int as n from notes'), [{ n: 0 }]);
  assert.deepEqual(await p.sql(`select count(*)::int as n from auth.users where email like 'deep%'`), [{ n: 0 }]);
  const settings = (await (await fetch(`${env.gatewayUrl}/platform/v1/projects/${p.ref}`, { headers: { authorization: `Bearer ${env.platformToken}` } })).json()) as { settings?: Record<string, unknown> };
  assert.equal(settings.settings?.a, undefined);
});

test('a body over the size limit is a 413, not a 500', async () => {
  const r = await fetch(`${p.url}/auth/v1/signup`, {
    method: 'POST', headers: { apikey: p.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'big@x.test', password: 'pass-word-1', data: { blob: 'x'.repeat(2 * 1024 * 1024) } }),
  });
  assert.equal(r.status, 413);
  const body = (await r.json()) as { code: number; msg: string };
  assert.equal(body.code, 413);
});
