// Hostile input from an anonymous client (anon key only) or a signed-in user: never a 500 where GoTrue answers a
// 4xx, no state left half-written by a refused request, and no per-user row or value that grows without bound.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';
import { startFakeOAuth } from './fake-oauth.js';
import { client, raw, setAuthSettings, uniqueEmail } from './helpers.js';

const p = await createProject('auth-hostile');
const phoneProject = await createProject('auth-hostile-phone');
await setAuthSettings(phoneProject, { phone_enabled: true, sms_max_frequency: 0 });
const fake = await startFakeOAuth();
after(() => fake.close());
const oauthProject = await createProject('auth-hostile-oauth');
await setAuthSettings(oauthProject, { external: { google: fake.settings('google') } });

async function signedIn() {
  const s = (await client(p).auth.signUp({ email: uniqueEmail('hostile'), password: 'hostile-pass-1' })).data.session!;
  return { token: s.access_token, userId: s.user.id };
}

test('a verification type named like an Object.prototype member is a 400, not a 500 (POST and the GET link)', async () => {
  const hash = 'a'.repeat(56);
  for (const type of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
    const posted = await raw(p, '/verify', { method: 'POST', json: { type, token_hash: hash } });
    assert.equal(posted.status, 400, `POST type ${type} → ${posted.status} ${JSON.stringify(posted.body)}`);
    assert.equal(posted.body.code, 'validation_failed');
    const withCode = await raw(p, '/verify', { method: 'POST', json: { type, token: '123456', email: uniqueEmail() } });
    assert.equal(withCode.status, 400, `POST type ${type} with a code → ${withCode.status}`);
    const link = await raw(p, `/verify?type=${type}&token=${hash}`);
    assert.equal(link.status, 303, `GET type ${type} → ${link.status} ${JSON.stringify(link.body)}`);
    assert.match(link.headers.get('location') ?? '', /#error=access_denied&error_code=validation_failed/);
  }
});

test('unverified TOTP factors are bounded per user: enrolling past the maximum is 422 too_many_enrolled_mfa_factors', async () => {
  const { token, userId } = await signedIn();
  const answers = [];
  // concurrently, so the bound holds for enrollments racing each other too
  const statuses = await Promise.all(Array.from({ length: 14 }, () => raw(p, '/factors', { method: 'POST', bearer: token, json: { factor_type: 'totp' } })));
  for (const r of statuses) answers.push(r.status === 200 ? 200 : `${r.status} ${r.body.code}`);
  assert.equal(answers.filter((a) => a === 200).length, 10, JSON.stringify(answers));
  assert.ok(answers.filter((a) => a !== 200).every((a) => a === '422 too_many_enrolled_mfa_factors'), JSON.stringify(answers));
  const [{ n }] = await p.sql(`select count(*)::int as n from auth.mfa_factors where user_id = '${userId}'`);
  assert.equal(n, 10);
  // an abandoned enrollment expires (GoTrue's MFA factor expiry, 5 minutes) and makes room again
  await p.sql(`update auth.mfa_factors set created_at = now() - interval '10 minutes' where user_id = '${userId}'`);
  assert.equal((await raw(p, '/factors', { method: 'POST', bearer: token, json: { factor_type: 'totp' } })).status, 200);
});

test('an issuer too long for a QR code is a 422 and leaves no factor behind', async () => {
  const { token, userId } = await signedIn();
  const r = await raw(p, '/factors', { method: 'POST', bearer: token, json: { factor_type: 'totp', issuer: '€'.repeat(255) } });
  assert.equal(r.status, 422, `${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.body.code, 'validation_failed');
  const [{ n }] = await p.sql(`select count(*)::int as n from auth.mfa_factors where user_id = '${userId}'`);
  assert.equal(n, 0);
});

test('user_metadata cannot outgrow its limit through repeated merges', async () => {
  const { token, userId } = await signedIn();
  const answers = [];
  for (let i = 0; i < 4; i++) {
    const r = await raw(p, '/user', { method: 'PUT', bearer: token, json: { data: { [`k${i}`]: 'x'.repeat(30_000) } } });
    answers.push(r.status === 200 ? 200 : `${r.status} ${r.body.code}`);
  }
  assert.deepEqual(answers, [200, 200, '400 validation_failed', '400 validation_failed']);
  const [{ size }] = await p.sql(`select length(raw_user_meta_data::text) as size from auth.users where id = '${userId}'`);
  assert.ok(size <= 64 * 1024, `user_metadata grew to ${size} characters`);
  // a merge that removes keys (null) still works
  const shrink = await raw(p, '/user', { method: 'PUT', bearer: token, json: { data: { k0: null, k2: 'y' } } });
  assert.equal(shrink.status, 200);
  assert.deepEqual(Object.keys(shrink.body.user_metadata).sort(), ['k1', 'k2']);
});

test('concurrent OTP requests for one new address all succeed, and leave one user with its identity', async () => {
  const email = uniqueEmail('otp-race');
  const answers = await Promise.all(Array.from({ length: 6 }, () => raw(p, '/otp', { method: 'POST', json: { email } })));
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200], JSON.stringify(answers.map((r) => r.body)));
  const rows = await p.sql(`select u.id, (select count(*)::int from auth.identities i where i.user_id = u.id) as identities
    from auth.users u where email = '${email}'`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].identities, 1);
});

test('concurrent admin generate_link calls for one new address all succeed, and leave one user', async () => {
  const email = uniqueEmail('link-race');
  const answers = await Promise.all(Array.from({ length: 6 }, () => raw(p, '/admin/generate_link', { method: 'POST', bearer: p.serviceKey, json: { type: 'magiclink', email } })));
  assert.ok(answers.every((r) => r.status === 200), JSON.stringify(answers.map((r) => [r.status, r.body])));
  assert.equal(new Set(answers.map((r) => r.body.id)).size, 1);
  assert.equal((await p.sql(`select id from auth.users where email = '${email}'`)).length, 1);
});

test('concurrent SMS OTP requests for one new number all succeed', async () => {
  const phone = `1555${String(Date.now() % 10_000_000).padStart(7, '0')}`;
  const answers = await Promise.all(Array.from({ length: 6 }, () => raw(phoneProject, '/otp', { method: 'POST', json: { phone: `+${phone}` } })));
  assert.ok(answers.every((r) => r.status === 200), JSON.stringify(answers.map((r) => [r.status, r.body])));
  const rows = await phoneProject.sql(`select id from auth.users where phone = '${phone}'`);
  assert.equal(rows.length, 1);
});

test('a ban duration past what a Go duration holds is a 400, not a 500', async () => {
  const r = await raw(p, '/admin/users', { method: 'POST', bearer: p.serviceKey, json: { email: uniqueEmail('ban'), ban_duration: `${'9'.repeat(30)}h` } });
  assert.equal(r.status, 400, `${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.body.code, 'validation_failed');
});

test('concurrent first sign-ins of one Google account (ID token) give one user, with its identity, to every request', async () => {
  const now = Math.floor(Date.now() / 1000);
  for (const email of [undefined, uniqueEmail('google-race')]) {
    const sub = `g-${Math.random().toString(36).slice(2)}`;
    const idToken = fake.signIdToken({ iss: 'https://accounts.google.com', aud: 'google-client', sub, exp: now + 600, ...(email ? { email, email_verified: true } : {}) });
    const answers = await Promise.all(Array.from({ length: 6 }, () =>
      raw(oauthProject, '/token?grant_type=id_token', { method: 'POST', json: { provider: 'google', id_token: idToken } })));
    assert.ok(answers.every((r) => r.status === 200), `${email ? 'with' : 'without'} an email: ${JSON.stringify(answers.map((r) => [r.status, r.body.code]))}`);
    assert.equal(new Set(answers.map((r) => r.body.user.id)).size, 1, 'every request signs in to the same user');
    const users = await oauthProject.sql(`select u.id, (select count(*)::int from auth.identities i where i.user_id = u.id) as identities
      from auth.users u where u.raw_user_meta_data->>'sub' = '${sub}'`);
    assert.deepEqual(users.map((u) => u.identities), [1], 'one user, with its identity; no user left without one');
  }
});
