// JSON bodies of every wrong shape (catalogue Z5) to the endpoints that take one, across auth, storage, cron and
// the platform API: whole bodies that are not objects, known fields with values of the wrong type, prototype keys,
// huge and deeply nested values. Each must be a 4xx (or accepted), never a 5xx. Seeded: a failure names its seed
// (BASALT_TEST_SEED repeats it).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createProject, pick, seededRandom, testEnv, type TestProject, testSeed } from '@basalt/testkit';

const seed = testSeed();
const PER_ENDPOINT = Number(process.env.BASALT_FUZZ_PER_ENDPOINT ?? 12);
let p: TestProject;
let userToken = '';
let userId = '';

before(async () => {
  p = await createProject('body-fuzz');
  const r = await fetch(`${p.url}/auth/v1/signup`, {
    method: 'POST', headers: { apikey: p.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ email: `fuzz-${Date.now()}@example.com`, password: 'fuzz-pass-1234' }),
  });
  const session = (await r.json()) as { access_token: string; user: { id: string } };
  userToken = session.access_token;
  userId = session.user.id;
  await fetch(`${p.url}/storage/v1/bucket`, {
    method: 'POST', headers: { apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'fuzz', name: 'fuzz' }),
  });
});


const deep = (n: number) => JSON.parse(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
const VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', ' ', 'x', 'a'.repeat(100_000), '😀\u0000\u202e', '../..',
  "'; drop table users; --", '2024-13-45', 'not-an-email', 'http://127.0.0.1:1/', [], [null], ['a', 1, {}], {}, { a: 1 }, { __proto__: { admin: true } },
  JSON.parse('{"__proto__":{"polluted":1}}'), { constructor: { prototype: { x: 1 } } }, deep(200)];
const WHOLE = ['null', '[]', '1', '"s"', 'true', '{', '{"a":', '', '[{}]', '{"__proto__":{"x":1}}', ' '.repeat(1000)];

interface Endpoint { name: string; method: string; url: () => string; headers: () => Record<string, string>; fields: string[] }
const anon = () => ({ apikey: p.anonKey });
const user = () => ({ apikey: p.anonKey, authorization: `Bearer ${userToken}` });
const service = () => ({ apikey: p.serviceKey, authorization: `Bearer ${p.serviceKey}` });
const operator = () => ({ authorization: `Bearer ${testEnv().platformToken}` });
const ENDPOINTS: Endpoint[] = [
  { name: 'auth signup', method: 'POST', url: () => `${p.url}/auth/v1/signup`, headers: anon, fields: ['email', 'password', 'phone', 'data', 'options', 'code_challenge', 'gotrue_meta_security'] },
  { name: 'auth password grant', method: 'POST', url: () => `${p.url}/auth/v1/token?grant_type=password`, headers: anon, fields: ['email', 'password', 'phone'] },
  { name: 'auth refresh grant', method: 'POST', url: () => `${p.url}/auth/v1/token?grant_type=refresh_token`, headers: anon, fields: ['refresh_token'] },
  { name: 'auth pkce grant', method: 'POST', url: () => `${p.url}/auth/v1/token?grant_type=pkce`, headers: anon, fields: ['auth_code', 'code_verifier'] },
  { name: 'auth otp', method: 'POST', url: () => `${p.url}/auth/v1/otp`, headers: anon, fields: ['email', 'phone', 'create_user', 'data', 'channel'] },
  { name: 'auth verify', method: 'POST', url: () => `${p.url}/auth/v1/verify`, headers: anon, fields: ['type', 'token', 'token_hash', 'email', 'phone', 'redirect_to'] },
  { name: 'auth recover', method: 'POST', url: () => `${p.url}/auth/v1/recover`, headers: anon, fields: ['email', 'code_challenge'] },
  { name: 'auth resend', method: 'POST', url: () => `${p.url}/auth/v1/resend`, headers: anon, fields: ['type', 'email', 'phone'] },
  { name: 'auth update user', method: 'PUT', url: () => `${p.url}/auth/v1/user`, headers: user, fields: ['email', 'password', 'phone', 'data', 'nonce'] },
  { name: 'auth factors', method: 'POST', url: () => `${p.url}/auth/v1/factors`, headers: user, fields: ['factor_type', 'friendly_name', 'issuer', 'phone'] },
  { name: 'auth admin create user', method: 'POST', url: () => `${p.url}/auth/v1/admin/users`, headers: service, fields: ['email', 'password', 'phone', 'email_confirm', 'user_metadata', 'app_metadata', 'ban_duration', 'role', 'id'] },
  { name: 'auth admin update user', method: 'PUT', url: () => `${p.url}/auth/v1/admin/users/${userId}`, headers: service, fields: ['email', 'user_metadata', 'app_metadata', 'ban_duration', 'role', 'email_confirm'] },
  { name: 'auth admin generate link', method: 'POST', url: () => `${p.url}/auth/v1/admin/generate_link`, headers: service, fields: ['type', 'email', 'password', 'data', 'redirect_to', 'new_email'] },
  { name: 'auth invite', method: 'POST', url: () => `${p.url}/auth/v1/invite`, headers: service, fields: ['email', 'data'] },
  { name: 'storage create bucket', method: 'POST', url: () => `${p.url}/storage/v1/bucket`, headers: service, fields: ['id', 'name', 'public', 'file_size_limit', 'allowed_mime_types', 'type'] },
  { name: 'storage update bucket', method: 'PUT', url: () => `${p.url}/storage/v1/bucket/fuzz`, headers: service, fields: ['public', 'file_size_limit', 'allowed_mime_types'] },
  { name: 'storage list', method: 'POST', url: () => `${p.url}/storage/v1/object/list/fuzz`, headers: service, fields: ['prefix', 'limit', 'offset', 'sortBy', 'search'] },
  { name: 'storage list v2', method: 'POST', url: () => `${p.url}/storage/v1/object/list-v2/fuzz`, headers: service, fields: ['prefix', 'limit', 'cursor', 'with_delimiter', 'sortBy'] },
  { name: 'storage move', method: 'POST', url: () => `${p.url}/storage/v1/object/move`, headers: service, fields: ['bucketId', 'sourceKey', 'destinationKey', 'destinationBucket'] },
  { name: 'storage copy', method: 'POST', url: () => `${p.url}/storage/v1/object/copy`, headers: service, fields: ['bucketId', 'sourceKey', 'destinationKey', 'destinationBucket', 'metadata'] },
  { name: 'storage sign', method: 'POST', url: () => `${p.url}/storage/v1/object/sign/fuzz/a.txt`, headers: service, fields: ['expiresIn', 'transform', 'download'] },
  { name: 'storage sign many', method: 'POST', url: () => `${p.url}/storage/v1/object/sign/fuzz`, headers: service, fields: ['expiresIn', 'paths'] },
  { name: 'storage delete many', method: 'DELETE', url: () => `${p.url}/storage/v1/object/fuzz`, headers: service, fields: ['prefixes'] },
  { name: 'cron create job', method: 'POST', url: () => `${p.url}/cron/admin/v1/jobs`, headers: service, fields: ['name', 'schedule', 'target', 'function', 'body', 'timeout_ms', 'timezone', 'retries'] },
  { name: 'platform update project', method: 'PATCH', url: () => `${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}`, headers: operator, fields: ['name', 'settings', 'plan'] },
  { name: 'platform api key', method: 'POST', url: () => `${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}/api-keys`, headers: operator, fields: ['type', 'name', 'description'] },
  { name: 'platform custom domain', method: 'POST', url: () => `${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}/custom-domains`, headers: operator, fields: ['domain'] },
  { name: 'platform migration', method: 'POST', url: () => `${testEnv().gatewayUrl}/platform/v1/projects/${p.ref}/database/migrations`, headers: operator, fields: ['name', 'query', 'statements'] },
];

function body(next: () => number, e: Endpoint): string {
  if (next() < 0.2) return pick(next, WHOLE);
  const o: Record<string, unknown> = {};
  for (const f of e.fields) if (next() < 0.6) o[f] = pick(next, VALUES);
  if (next() < 0.2) o[pick(next, ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'])] = pick(next, VALUES);
  if (e.name === 'platform update project' && next() < 0.7) o.settings = Object.fromEntries(['rate_limit_rps', 'rest', 'auth', 'cors', 'storage', 'functions'].filter(() => next() < 0.5).map((k) => [k, pick(next, VALUES)]));
  return JSON.stringify(o);
}

test('JSON bodies of every wrong shape to every endpoint that takes one: 4xx or accepted, never 5xx', async () => {
  const next = seededRandom(seed);
  const wrong: string[] = [];
  for (const e of ENDPOINTS) {
    for (let i = 0; i < PER_ENDPOINT; i++) {
      const b = body(next, e);
      const r = await fetch(e.url(), { method: e.method, headers: { ...e.headers(), 'content-type': 'application/json' }, body: b });
      const text = await r.text();
      if (r.status >= 500) wrong.push(`${e.name}: ${r.status} for ${b.slice(0, 200)} → ${text.slice(0, 200)}`);
    }
  }
  assert.deepEqual(wrong, [], `seed ${seed}`);
});

test('what the fuzzing found: a NUL in a string and an overlong role are 400s (were 500 and 503)', async () => {
  const post = (url: string, headers: Record<string, string>, body: string, method = 'POST') =>
    fetch(url, { method, headers: { ...headers, 'content-type': 'application/json' }, body }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const nulEmail = await post(`${p.url}/auth/v1/token?grant_type=password`, anon(), '{"email":"a\\u0000@example.com","password":"x"}');
  assert.equal(nulEmail.status, 400, nulEmail.body);
  const nulPrefix = await post(`${p.url}/storage/v1/object/list/fuzz`, service(), '{"prefix":"a\\u0000b"}');
  assert.equal(nulPrefix.status, 400, nulPrefix.body);
  assert.equal(JSON.parse(nulPrefix.body).statusCode, '400', 'in Storage\'s shape');
  const role = await post(`${p.url}/auth/v1/admin/users/${userId}`, service(), JSON.stringify({ role: 'r'.repeat(256) }), 'PUT');
  assert.equal(role.status, 400, role.body);
  assert.match(role.body, /role must be a string/);
  assert.equal((await post(`${p.url}/auth/v1/admin/users/${userId}`, service(), JSON.stringify({ role: { a: 1 } }), 'PUT')).status, 400);
});
