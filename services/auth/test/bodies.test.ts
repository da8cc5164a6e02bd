// The bodies /auth/v1 reads (JSON under three types, forms for OAuth-style token calls, anything else as no body),
// the x-supabase-api-version handshake on answers and errors, and GoTrue's /health document (table-driven).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';
import { client, raw, uniqueEmail } from './helpers.js';

const p = await createProject('auth-bodies');
const email = uniqueEmail('bodies');
const password = 'bodies-pass-1';
const first = (await client(p).auth.signUp({ email, password })).data.session!;
const credentials = JSON.stringify({ email, password });
const signIn = (type: string, body: string) => raw(p, '/token?grant_type=password', { method: 'POST', body, headers: { 'content-type': type } });

test('sign-in bodies: JSON under application/json, +json and text/plain; an unknown type reads as no body', async () => {
  const noBody = await raw(p, '/token?grant_type=password', { method: 'POST' });
  assert.equal(noBody.status, 400);
  // [content-type, body, status, the error code or the whole error body]
  const cases: [string, string, number, (string | object)?][] = [
    ['application/json', credentials, 200],
    ['application/json; charset=utf-8', credentials, 200],
    ['application/vnd.api+json', credentials, 200],
    ['text/plain', credentials, 200],
    ['application/x-www-form-urlencoded', new URLSearchParams({ email, password }).toString(), 200],
    ['application/octet-stream', credentials, 400, noBody.body],
    ['text/plain', '{"email":', 400, 'bad_json'],
    ['application/json', '[1, 2]', 400, 'validation_failed'],
  ];
  for (const [type, body, status, expect] of cases) {
    const r = await signIn(type, body);
    assert.equal(r.status, status, `${type} ${body} → ${JSON.stringify(r.body)}`);
    if (status === 200) assert.ok(r.body.access_token && r.body.refresh_token);
    if (typeof expect === 'string') assert.equal(r.body.code, expect, `${type} ${body} → ${JSON.stringify(r.body)}`);
    else if (expect) assert.deepEqual(r.body, expect);
  }
});

test('an OAuth-style form refresh rotates the token like a JSON one', async () => {
  const r = await raw(p, '/token?grant_type=refresh_token', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `refresh_token=${encodeURIComponent(first.refresh_token)}`,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.notEqual(r.body.refresh_token, first.refresh_token);
  assert.equal(r.body.user.email, email);
  const again = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: r.body.refresh_token } });
  assert.equal(again.status, 200);
  assert.equal(again.body.user.id, r.body.user.id);
});

test('x-supabase-api-version comes back on answers and errors only when the client sent it; errors take its shape', async () => {
  const ok = await raw(p, '/settings');
  assert.equal(ok.headers.get('x-supabase-api-version'), '2024-01-01');
  // the anon key as bearer: a token without sub
  const err = await raw(p, '/user');
  assert.equal(err.status, 403);
  assert.equal(err.headers.get('x-supabase-api-version'), '2024-01-01');
  assert.deepEqual(err.body, { code: 'bad_jwt', message: 'invalid claim: missing sub claim' });
  const legacy = await raw(p, '/user', { legacy: true });
  assert.equal(legacy.headers.get('x-supabase-api-version'), null);
  assert.deepEqual(legacy.body, { code: 403, error_code: 'bad_jwt', msg: 'invalid claim: missing sub claim' });
});

test('GET /auth/v1/health is GoTrue\'s document', async () => {
  const r = await fetch(`${p.url}/auth/v1/health`, { headers: { apikey: p.anonKey } });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { version: 'basalt', name: 'GoTrue', description: 'Basalt auth is a user registration and authentication API' });
});
