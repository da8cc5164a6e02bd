// Features this auth service does not offer, or a project has switched off, answer with GoTrue's own status,
// error code and message, so auth-js surfaces the error an app written for Supabase already handles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthApiError } from '@supabase/supabase-js';
import { createProject } from '@basalt/testkit';
import { client, raw, setAuthSettings } from './helpers.js';

const p = await createProject('auth-disabled');
await setAuthSettings(p, { anonymous_users: true });

const expectAuthError = (error: unknown, status: number, code: string, message: string | RegExp) => {
  assert.ok(error instanceof AuthApiError, `an AuthApiError, got ${String(error)}`);
  assert.equal(error.status, status);
  assert.equal(error.code, code);
  if (typeof message === 'string') assert.equal(error.message, message);
  else assert.match(error.message, message);
};

test('SAML single sign-on is off: signInWithSSO and the SAML endpoints are 404 saml_provider_disabled', async () => {
  const { error } = await client(p).auth.signInWithSSO({ domain: 'example.com' });
  expectAuthError(error, 404, 'saml_provider_disabled', 'SAML 2.0 is disabled');
  for (const [method, path] of [['GET', '/sso/saml/metadata'], ['POST', '/sso/saml/acs']] as const) {
    const r = await raw(p, path, { method });
    assert.equal(r.status, 404, path);
    assert.equal(r.body.code, 'saml_provider_disabled', path);
  }
  // the admin SSO API checks the admin first, as GoTrue's middleware order does
  assert.equal((await raw(p, '/admin/sso/providers')).status, 403);
  const listed = await raw(p, '/admin/sso/providers', { bearer: p.serviceKey });
  assert.equal(listed.status, 404);
  assert.equal(listed.body.code, 'saml_provider_disabled');
});

test('grant_type=web3 is 422 web3_provider_disabled', async () => {
  const r = await raw(p, '/token?grant_type=web3', { method: 'POST', json: { chain: 'solana', message: 'm', signature: 's' } });
  assert.equal(r.status, 422);
  assert.equal(r.body.code, 'web3_provider_disabled');
  assert.equal(r.body.message, 'Web3 provider is disabled');
});

test('an ID token of a provider the project has not enabled is 400 provider_disabled naming its issuer', async () => {
  const { error } = await client(p).auth.signInWithIdToken({ provider: 'google', token: 'a.b.c' });
  expectAuthError(error, 400, 'provider_disabled', 'Provider (issuer "https://accounts.google.com") is not enabled');
  const unknown = await client(p).auth.signInWithIdToken({ provider: 'myspace', token: 'a.b.c' });
  expectAuthError(unknown.error, 400, 'validation_failed', 'Custom OIDC provider "myspace" not allowed');
});

test('reauthenticate without an email or phone is 400 with GoTrue\'s message', async () => {
  const sb = client(p);
  const anon = await sb.auth.signInAnonymously();
  assert.equal(anon.error, null);
  const { error } = await sb.auth.reauthenticate();
  expectAuthError(error, 400, 'validation_failed', 'Reauthentication requires the user to have an email or a phone number');
});
