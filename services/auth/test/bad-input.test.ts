// Bad input of every shape is a 4xx in GoTrue's error shape, never a 500 (table-driven).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';
import { client, raw, uniqueEmail } from './helpers.js';

const p = await createProject('auth-bad-input');
const session = (await client(p).auth.signUp({ email: uniqueEmail(), password: 'input-pass-1' })).data.session!;

const cases: [string, string, unknown, string?][] = [
  ['POST', '/signup', { email: 123, password: 'input-pass-1' }],
  ['POST', '/signup', { email: uniqueEmail(), password: { a: 1 } }],
  ['POST', '/signup', { email: uniqueEmail(), password: 'input-pass-1', data: 'str' }],
  ['POST', '/signup', { email: uniqueEmail(), password: 'input-pass-1', data: [1, 2] }],
  ['POST', '/signup', { email: uniqueEmail(), password: 'input-pass-1', code_challenge: 'short', code_challenge_method: 's256' }],
  ['POST', '/signup', [1, 2, 3]],
  ['POST', '/signup', 'just a string'],
  ['POST', '/token?grant_type=password', { email: 5, password: null }],
  ['POST', '/token?grant_type=password', { email: 'a'.repeat(5000), password: 'x' }],
  ['POST', '/token?grant_type=refresh_token', { refresh_token: 42 }],
  ['POST', '/token?grant_type=refresh_token', { refresh_token: 'x'.repeat(10_000) }],
  ['POST', '/token?grant_type=pkce', { auth_code: 'abc', code_verifier: 'x'.repeat(50) }],
  ['POST', '/token?grant_type=pkce', { auth_code: {}, code_verifier: [] }],
  ['POST', '/token?grant_type=password&grant_type=refresh_token', {}],
  ['POST', '/otp', { email: 'nope' }],
  ['POST', '/otp', { email: uniqueEmail(), data: 7 }],
  ['POST', '/recover', {}],
  ['POST', '/resend', { type: 'bogus', email: uniqueEmail() }],
  ['POST', '/verify', { type: 'magiclink', token: 123, email: uniqueEmail() }],
  ['POST', '/verify', { type: ['signup'], token_hash: 'x' }],
  ['POST', '/verify', { type: 'sms', token: '123456', phone: '+15555550100' }],
  ['GET', '/verify?type=signup&token=zzz&redirect_to[]=x', undefined],
  ['PUT', '/user', { data: [] }, 'user'],
  ['PUT', '/user', { email: 'not an email' }, 'user'],
  ['PUT', '/user', { password: 'x' }, 'user'],
  ['POST', '/logout?scope[]=global', undefined, 'user'],
  ['POST', '/factors', { factor_type: 'totp', friendly_name: { x: 1 } }, 'user'],
  ['POST', '/factors/00000000-0000-0000-0000-000000000000/verify', { challenge_id: 'nope', code: 123 }, 'user'],
  ['DELETE', '/factors/00000000-0000-0000-0000-000000000000', undefined, 'user'],
  ['POST', '/admin/users', { email: 'x' }, 'service'],
  ['POST', '/admin/users', { email: uniqueEmail(), app_metadata: 5 }, 'service'],
  ['POST', '/admin/users', { email: uniqueEmail(), id: 'not-a-uuid' }, 'service'],
  ['POST', '/admin/users', { email: uniqueEmail(), ban_duration: 'soon' }, 'service'],
  ['PUT', '/admin/users/00000000-0000-0000-0000-000000000000', { email: uniqueEmail() }, 'service'],
  ['DELETE', '/admin/users/00000000-0000-0000-0000-000000000000', {}, 'service'],
  ['GET', '/admin/users?page=-4&per_page=abc', undefined, 'service'],
  ['POST', '/admin/generate_link', { type: 'nope', email: uniqueEmail() }, 'service'],
  ['POST', '/admin/generate_link', { type: 'email_change_new', email: uniqueEmail() }, 'service'],
  ['GET', '/authorize?provider[]=github', undefined],
  ['GET', '/callback?state=not-a-uuid&code=x', undefined],
  ['GET', '/nope', undefined],
];

test('no input shape yields a 5xx; errors carry GoTrue codes', async () => {
  for (const [method, path, body, who] of cases) {
    const bearer = who === 'user' ? session.access_token : who === 'service' ? p.serviceKey : undefined;
    const r = await raw(p, path, { method, bearer, ...(body !== undefined ? { json: body } : {}) });
    assert.ok(r.status < 500, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status >= 400 && r.headers.get('content-type')?.includes('json')) {
      assert.equal(typeof r.body.code, 'string', `${method} ${path} → ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.message, 'string');
    }
  }
});
