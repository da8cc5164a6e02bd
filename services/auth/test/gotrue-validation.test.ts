// Input GoTrue refuses, refused here with its status, code and message: email addresses on every path that
// takes one (sign-up, invite, admin create, generate_link) and admin listUsers pagination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';
import { client, raw, uniqueEmail } from './helpers.js';

const p = await createProject('auth-validation');
const admin = () => client(p, p.serviceKey).auth.admin;

const BAD = ['not-an-email', 'a b@example.com', 'user@-example.com', ' padded@example.com', 'x@exa_mple.com'];

test('a malformed email is 400 "Unable to validate email address: invalid format" on every path', async () => {
  for (const email of BAD) {
    const signUp = await client(p).auth.signUp({ email, password: 'long-enough-1' });
    assert.equal(signUp.error?.status, 400, `signUp ${email}`);
    assert.equal(signUp.error?.code, 'validation_failed');
    assert.equal(signUp.error?.message, 'Unable to validate email address: invalid format');
    const created = await admin().createUser({ email, password: 'long-enough-1' });
    assert.equal(created.error?.message, 'Unable to validate email address: invalid format', `createUser ${email}`);
    const invited = await admin().inviteUserByEmail(email);
    assert.equal(invited.error?.message, 'Unable to validate email address: invalid format', `invite ${email}`);
    const link = await admin().generateLink({ type: 'magiclink', email });
    assert.equal(link.error?.message, 'Unable to validate email address: invalid format', `generateLink ${email}`);
  }
  const long = `${'a'.repeat(250)}@example.com`;
  assert.equal((await client(p).auth.signUp({ email: long, password: 'long-enough-1' })).error?.message, 'An email address is too long');
  const none = await raw(p, '/admin/users', { method: 'POST', bearer: p.serviceKey, json: { email: '', password: 'long-enough-1' } });
  assert.equal(none.status, 400);
});

test('addresses checkmail accepts are accepted (no dot needed in the domain) and stored lower-cased', async () => {
  const email = `${uniqueEmail('Mixed').replace('@example.com', '')}@Intranet`;
  const { data, error } = await admin().createUser({ email, password: 'long-enough-1', email_confirm: true });
  assert.equal(error, null);
  assert.equal(data.user?.email, email.toLowerCase());
});

test('admin listUsers: page and per_page must be unsigned integers', async () => {
  for (const [q, bad] of [['page=abc', 'abc'], ['per_page=-1', '-1'], ['page=1.5', '1.5']] as const) {
    const r = await raw(p, `/admin/users?${q}`, { bearer: p.serviceKey });
    assert.equal(r.status, 400, q);
    assert.equal(r.body.code, 'validation_failed');
    assert.equal(r.body.message, `Bad Pagination Parameters: strconv.ParseUint: parsing "${bad}": invalid syntax`);
  }
  const ok = await raw(p, '/admin/users?page=1&per_page=2', { bearer: p.serviceKey });
  assert.equal(ok.status, 200);
  assert.ok(Array.isArray(ok.body.users));
  const sdk = await admin().listUsers({ page: 1, perPage: 1 });
  assert.equal(sdk.error, null);
  assert.equal(sdk.data.users.length, 1);
});
