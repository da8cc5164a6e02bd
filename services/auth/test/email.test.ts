// Email flows completed through the dev outbox: confirmation links, magic links and OTP codes, recovery,
// email change, resend, reauthentication, anonymous users converted by adding an email, and the outbox API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, platform } from '@basalt/testkit';
import { client, env, outbox, raw, setAuthSettings, uniqueEmail } from './helpers.js';

const p = await createProject('auth-email');
await setAuthSettings(p, { email_confirm_required: true, anonymous_users: true, uri_allow_list: ['http://app.test/**'] });

const fragment = (location: string) => new URLSearchParams(new URL(location).hash.slice(1));
const lastMail = async (email: string, type?: string) => (await outbox(p, email)).find((m) => !type || m.type === type)!;

test('sign-up confirmation through the outbox link: GET /verify redirects with tokens in the fragment', async () => {
  const email = uniqueEmail('confirm');
  const sb = client(p);
  const r = await sb.auth.signUp({ email, password: 'confirm-pass-1', options: { emailRedirectTo: 'http://app.test/welcome' } });
  assert.equal(r.data.session, null);
  const mail = await lastMail(email, 'signup');
  assert.equal(mail.subject, 'Confirm Your Signup');
  assert.ok(mail.action_link && mail.html.includes('Confirm your mail'));
  const link = new URL(mail.action_link);
  assert.equal(link.searchParams.get('redirect_to'), 'http://app.test/welcome');
  // The link is an open route: no apikey, as a browser following it would send.
  const res = await fetch(mail.action_link, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const location = res.headers.get('location')!;
  assert.ok(location.startsWith('http://app.test/welcome#'));
  const f = fragment(location);
  assert.equal(f.get('type'), 'signup');
  assert.equal(f.get('token_type'), 'bearer');
  const me = await sb.auth.getUser(f.get('access_token')!);
  assert.equal(me.data.user?.email, email);
  assert.ok(me.data.user?.email_confirmed_at);
  // Single use: the same link again redirects with otp_expired.
  const again = await fetch(mail.action_link, { redirect: 'manual' });
  assert.equal(fragment(again.headers.get('location')!).get('error_code'), 'otp_expired');
  assert.equal((await sb.auth.signInWithPassword({ email, password: 'confirm-pass-1' })).error, null);
});

test('email OTP: signInWithOtp sends a code that verifyOtp turns into a session; create_user false for unknown is 422', async () => {
  const email = uniqueEmail('otp');
  const sb = client(p);
  assert.equal((await sb.auth.signInWithOtp({ email })).error, null);
  const code = (await lastMail(email))!.otp!;
  assert.match(code, /^\d{6}$/);
  const wrong = await sb.auth.verifyOtp({ email, token: code === '000000' ? '111111' : '000000', type: 'email' });
  assert.equal(wrong.error?.status, 403);
  assert.equal(wrong.error?.code, 'otp_expired');
  const v = await sb.auth.verifyOtp({ email, token: code, type: 'email' });
  assert.equal(v.error, null);
  assert.equal(v.data.user?.email, email);
  // Now confirmed: a second OTP is a magic link, followed through the outbox link.
  assert.equal((await sb.auth.signInWithOtp({ email, options: { emailRedirectTo: 'http://app.test/in' } })).error, null);
  const magic = await lastMail(email, 'magiclink');
  const res = await fetch(magic.action_link!, { redirect: 'manual' });
  const f = fragment(res.headers.get('location')!);
  assert.equal(f.get('type'), 'magiclink');
  assert.ok(f.get('refresh_token'));
  const none = await sb.auth.signInWithOtp({ email: uniqueEmail('none'), options: { shouldCreateUser: false } });
  assert.equal(none.error?.status, 422);
  assert.equal(none.error?.code, 'otp_disabled');
});

test('recovery: unknown addresses get the same {}; the recovery link signs in and the password can be changed', async () => {
  const email = uniqueEmail('recover');
  const sb = client(p);
  await sb.auth.signUp({ email, password: 'forgotten-pass-1' });
  await p.sql(`update auth.users set email_confirmed_at = now() where email = '${email}'`);
  const known = await raw(p, '/recover', { method: 'POST', json: { email } });
  const unknown = await raw(p, '/recover', { method: 'POST', json: { email: uniqueEmail('ghost') } });
  assert.deepEqual([known.status, known.body], [200, {}]);
  assert.deepEqual([unknown.status, unknown.body], [200, {}]);
  const mail = await lastMail(email, 'recovery');
  const v = await sb.auth.verifyOtp({ email, token: mail.otp!, type: 'recovery' });
  assert.equal(v.error, null);
  await sb.auth.setSession(v.data.session!);
  assert.equal((await sb.auth.updateUser({ password: 'remembered-pass-2' })).error, null);
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'remembered-pass-2' })).error, null);
  assert.equal((await client(p).auth.resetPasswordForEmail(email)).error, null);
});

test('email change is confirmed from the new address; resend sends it again', async () => {
  const email = uniqueEmail('old');
  const next = uniqueEmail('new');
  const sb = client(p);
  await sb.auth.signUp({ email, password: 'change-pass-1' });
  await p.sql(`update auth.users set email_confirmed_at = now() where email = '${email}'`);
  await sb.auth.signInWithPassword({ email, password: 'change-pass-1' });
  const upd = await sb.auth.updateUser({ email: next });
  assert.equal(upd.error, null);
  assert.equal(upd.data.user?.email, email);
  assert.equal(upd.data.user?.new_email, next);
  assert.equal((await sb.auth.resend({ type: 'email_change', email: next })).error, null);
  const mails = (await outbox(p, next)).filter((m) => m.type === 'email_change');
  assert.equal(mails.length, 2);
  const v = await sb.auth.verifyOtp({ email: next, token: mails[0].otp!, type: 'email_change' });
  assert.equal(v.error, null);
  assert.equal(v.data.user?.email, next);
  assert.equal((await client(p).auth.signInWithPassword({ email: next, password: 'change-pass-1' })).error, null);
});

test('resend of a sign-up confirmation; reauthentication nonce for a password change', async () => {
  const email = uniqueEmail('resend');
  const sb = client(p);
  await sb.auth.signUp({ email, password: 'resend-pass-1' });
  assert.equal((await sb.auth.resend({ type: 'signup', email })).error, null);
  const mails = (await outbox(p, email)).filter((m) => m.type === 'signup');
  assert.equal(mails.length, 2);
  // The newest code replaces the older one.
  assert.equal((await sb.auth.verifyOtp({ email, token: mails[1].otp!, type: 'signup' })).error?.code, 'otp_expired');
  const v = await sb.auth.verifyOtp({ email, token: mails[0].otp!, type: 'signup' });
  assert.equal(v.error, null);
  await sb.auth.setSession(v.data.session!);
  assert.equal((await sb.auth.reauthenticate()).error, null);
  assert.match((await lastMail(email, 'reauthentication')).otp!, /^\d{6}$/);
});

test('anonymous sign-in, then conversion by adding an email', async () => {
  const sb = client(p);
  const anon = await sb.auth.signInAnonymously({ options: { data: { theme: 'dark' } } });
  assert.equal(anon.error, null);
  assert.equal(anon.data.user?.is_anonymous, true);
  const claims = JSON.parse(Buffer.from(anon.data.session!.access_token.split('.')[1], 'base64url').toString());
  assert.equal(claims.is_anonymous, true);
  assert.equal(claims.role, 'authenticated');
  const email = uniqueEmail('convert');
  assert.equal((await sb.auth.updateUser({ email })).error, null);
  const mail = await lastMail(email, 'email_change');
  const v = await sb.auth.verifyOtp({ email, token: mail.otp!, type: 'email_change' });
  assert.equal(v.error, null);
  assert.equal(v.data.user?.id, anon.data.user?.id);
  assert.equal(v.data.user?.is_anonymous, false);
  assert.equal(v.data.user?.email, email);
  await sb.auth.setSession(v.data.session!);
  assert.equal((await sb.auth.updateUser({ password: 'converted-pass-1' })).error, null);
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'converted-pass-1' })).error, null);
});

test('anonymous sign-in disabled is 422; the outbox API needs a platform token with access to the project', async () => {
  const q = await createProject('auth-email-other');
  const off = await client(q).auth.signInAnonymously();
  assert.equal(off.error?.code, 'anonymous_provider_disabled');
  const noToken = await fetch(`${env.gatewayUrl}/platform/v1/projects/${p.ref}/outbox`);
  assert.equal(noToken.status, 401);
  const scoped = await platform('/tokens', { method: 'POST', json: { name: 'only-q', projects: [q.ref] } });
  const cross = await fetch(`${env.gatewayUrl}/platform/v1/projects/${p.ref}/outbox`, { headers: { authorization: `Bearer ${scoped.token}` } });
  assert.equal(cross.status, 403);
  const own = await fetch(`${env.gatewayUrl}/platform/v1/projects/${q.ref}/outbox`, { headers: { authorization: `Bearer ${scoped.token}` } });
  assert.equal(own.status, 200);
  assert.deepEqual(await own.json(), []);
});

test('five wrong codes invalidate the live code of that address', async () => {
  const email = uniqueEmail('guess');
  const sb = client(p);
  await sb.auth.signInWithOtp({ email });
  const code = (await lastMail(email))!.otp!;
  const wrong = (n: number) => String((Number(code) + n) % 1_000_000).padStart(6, '0');
  for (let i = 1; i <= 5; i++) assert.equal((await sb.auth.verifyOtp({ email, token: wrong(i), type: 'email' })).error?.code, 'otp_expired');
  assert.equal((await sb.auth.verifyOtp({ email, token: code, type: 'email' })).error?.code, 'otp_expired');
});

test('verify input errors are 4xx: missing type, bad token hash, token_hash with email', async () => {
  assert.equal((await raw(p, '/verify', { method: 'POST', json: { token: '123456', email: 'a@b.co' } })).status, 400);
  assert.equal((await raw(p, '/verify', { method: 'POST', json: { type: 'signup', token_hash: 'zz' } })).body.code, 'otp_expired');
  assert.equal((await raw(p, '/verify', { method: 'POST', json: { type: 'signup', token_hash: 'a'.repeat(56), email: 'a@b.co' } })).status, 400);
  for (const bad of ['http://app.test.evil.com/x', 'http://app.test@evil.test/', 'javascript:alert(1)', '//evil.test', 'http://app.testx/']) {
    const r = await fetch(`${p.url}/auth/v1/verify?token=${'a'.repeat(56)}&type=signup&redirect_to=${encodeURIComponent(bad)}`, { redirect: 'manual' });
    assert.match(r.headers.get('location')!, new RegExp(`^http://[^/]+/project/${p.ref}#error=`), `${bad} → ${r.headers.get('location')}`);
  }
  const evil = await fetch(`${p.url}/auth/v1/verify?token=${'a'.repeat(56)}&type=signup&redirect_to=${encodeURIComponent('https://evil.test/x')}`, { redirect: 'manual' });
  assert.equal(evil.status, 303);
  assert.ok(!evil.headers.get('location')!.startsWith('https://evil.test'), 'redirect_to outside the allow list falls back to the site URL');
});
