// Phone auth with supabase-js, as GoTrue does it: sign-up with a number and password confirmed by a texted code,
// password sign-in, SMS one-time codes, resend and its frequency limit, a number change confirmed on the new
// number, reauthentication by text; each SMS provider's own wire (Twilio, MessageBird, Vonage, Textlocal)
// against a local stand-in; the dev outbox when no provider is set; and GoTrue's errors for each refusal.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthApiError } from '@supabase/supabase-js';
import { createProject, platform } from '@basalt/testkit';
import { startFakeSms } from './fake-sms.js';
import { client, outbox, setAuthSettings } from './helpers.js';

const sms = await startFakeSms();
after(() => sms.close());

const p = await createProject('auth-phone');
const twilio = { account_sid: 'AC0123456789', auth_token: 'twilio-token', message_service_sid: 'MG42', api_base_url: sms.url };
// a PATCH replaces settings.auth as a whole: every change restates the rest
const phoneSettings = (extra: Record<string, unknown> = {}) => setAuthSettings(p, { phone_enabled: true, sms_max_frequency: 0, sms: { provider: 'twilio', twilio }, ...extra });
await phoneSettings();

let seq = 0;
const newNumber = () => `1555${String(Date.now() % 1_000_000).padStart(6, '0')}${seq++ % 10}`;

test('phone sign-up: a code by text (Twilio wire), no sign-in until verified, then a session', async () => {
  const phone = newNumber();
  const sb = client(p);
  const signUp = await sb.auth.signUp({ phone: `+${phone}`, password: 'phone-pass-1' });
  assert.equal(signUp.error, null);
  assert.equal(signUp.data.session, null);
  assert.equal(signUp.data.user?.phone, phone, 'stored without the +, as GoTrue does');
  const text = sms.texts.at(-1)!;
  assert.equal(text.provider, 'twilio');
  assert.equal(text.path, '/2010-04-01/Accounts/AC0123456789/Messages.json');
  assert.equal(text.authorization, `Basic ${Buffer.from('AC0123456789:twilio-token').toString('base64')}`);
  assert.deepEqual({ To: text.form.To, From: text.form.From, Channel: text.form.Channel }, { To: `+${phone}`, From: 'MG42', Channel: 'sms' });
  assert.match(text.message, /^Your code is \d{6}$/);

  const early = await sb.auth.signInWithPassword({ phone, password: 'phone-pass-1' });
  assert.ok(early.error instanceof AuthApiError);
  assert.equal(early.error.code, 'phone_not_confirmed');
  assert.equal(early.error.message, 'Phone not confirmed');

  const wrong = await sb.auth.verifyOtp({ phone, token: '000000', type: 'sms' });
  assert.equal(wrong.error?.code, 'otp_expired');
  const ok = await sb.auth.verifyOtp({ phone, token: sms.codeFor(phone), type: 'sms' });
  assert.equal(ok.error, null);
  assert.ok(ok.data.session?.access_token);
  assert.ok(ok.data.user?.phone_confirmed_at);
  assert.equal(ok.data.user?.identities?.[0]?.provider, 'phone');
  const again = await sb.auth.verifyOtp({ phone, token: sms.codeFor(phone), type: 'sms' });
  assert.equal(again.error?.code, 'otp_expired', 'a code works once');

  const signIn = await client(p).auth.signInWithPassword({ phone: `+${phone}`, password: 'phone-pass-1' });
  assert.equal(signIn.error, null);
  assert.equal(signIn.data.user?.phone, phone);
  assert.equal((await client(p).auth.signInWithPassword({ phone, password: 'wrong-pass-1' })).error?.code, 'invalid_credentials');
  const dup = await client(p).auth.signUp({ phone, password: 'phone-pass-1' });
  assert.equal(dup.error?.code, 'user_already_exists');
});

test('signInWithOtp by text answers the message id; create_user:false refuses an unknown number', async () => {
  const phone = newNumber();
  const sb = client(p);
  const sent = await sb.auth.signInWithOtp({ phone });
  assert.equal(sent.error, null);
  assert.match(String(sent.data.messageId), /^SMmsg-\d+$/);
  const { data, error } = await sb.auth.verifyOtp({ phone, token: sms.codeFor(phone), type: 'sms' });
  assert.equal(error, null);
  assert.equal(data.user?.phone, phone);
  assert.deepEqual(data.user?.app_metadata.providers, ['phone']);
  const refused = await client(p).auth.signInWithOtp({ phone: newNumber(), options: { shouldCreateUser: false } });
  assert.equal(refused.error?.code, 'otp_disabled');
});

test('resend of a code within sms_max_frequency is 429 over_sms_send_rate_limit with GoTrue\'s message', async () => {
  await phoneSettings({ sms_max_frequency: 60 });
  try {
    const phone = newNumber();
    assert.equal((await client(p).auth.signUp({ phone, password: 'phone-pass-1' })).error, null);
    const { error } = await client(p).auth.resend({ type: 'sms', phone });
    assert.ok(error instanceof AuthApiError);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'over_sms_send_rate_limit');
    assert.match(error.message, /^For security purposes, you can only request this after (59|60) seconds\.$/);
  } finally {
    await phoneSettings();
  }
  const phone = newNumber();
  assert.equal((await client(p).auth.signUp({ phone, password: 'phone-pass-1' })).error, null);
  const first = sms.codeFor(phone);
  assert.equal((await client(p).auth.resend({ type: 'sms', phone })).error, null);
  const second = sms.codeFor(phone);
  const stale = await client(p).auth.verifyOtp({ phone, token: first, type: 'sms' });
  if (first !== second) assert.equal(stale.error?.code, 'otp_expired', 'a resent code replaces the old one');
  assert.equal((await client(p).auth.verifyOtp({ phone, token: second, type: 'sms' })).error, null);
});

test('a number change is confirmed by a code sent to the new number', async () => {
  const phone = newNumber();
  const sb = client(p);
  await sb.auth.signInWithOtp({ phone });
  assert.equal((await sb.auth.verifyOtp({ phone, token: sms.codeFor(phone), type: 'sms' })).error, null);
  const next = newNumber();
  const changed = await sb.auth.updateUser({ phone: next });
  assert.equal(changed.error, null);
  assert.equal(changed.data.user?.phone, phone, 'the old number stays until the new one is confirmed');
  assert.equal((changed.data.user as unknown as { new_phone?: string }).new_phone, next);
  const done = await sb.auth.verifyOtp({ phone: next, token: sms.codeFor(next), type: 'phone_change' });
  assert.equal(done.error, null);
  assert.equal(done.data.user?.phone, next);
  const me = await sb.auth.getUser();
  assert.equal(me.data.user?.phone, next);
  // the number is one account's: another user cannot take it
  const other = client(p);
  const otherPhone = newNumber();
  await other.auth.signInWithOtp({ phone: otherPhone });
  await other.auth.verifyOtp({ phone: otherPhone, token: sms.codeFor(otherPhone), type: 'sms' });
  const taken = await other.auth.updateUser({ phone: next });
  assert.equal(taken.error?.code, 'phone_exists');
});

test('reauthentication of a phone-only user texts a nonce that authorises a password change', async () => {
  await phoneSettings({ update_password_require_reauthentication: true });
  try {
    const phone = newNumber();
    const sb = client(p);
    await sb.auth.signInWithOtp({ phone });
    await sb.auth.verifyOtp({ phone, token: sms.codeFor(phone), type: 'sms' });
    assert.equal((await sb.auth.updateUser({ password: 'new-pass-123' })).error?.code, 'reauthentication_needed');
    assert.equal((await sb.auth.reauthenticate()).error, null);
    const nonce = sms.codeFor(phone);
    assert.equal((await sb.auth.updateUser({ password: 'new-pass-123', nonce })).error, null);
    assert.equal((await client(p).auth.signInWithPassword({ phone, password: 'new-pass-123' })).error, null);
  } finally {
    await phoneSettings();
  }
});

test('each provider\'s wire: MessageBird, Vonage and Textlocal; a refusal is 422 sms_send_failed', async () => {
  const cases = [
    { sms: { provider: 'messagebird', messagebird: { access_key: 'mb-key', originator: 'Basalt', api_base_url: sms.url } }, check: (t: typeof sms.texts[number], phone: string) => {
      assert.equal(t.authorization, 'AccessKey mb-key');
      assert.deepEqual({ originator: t.form.originator, recipients: t.form.recipients, type: t.form.type }, { originator: 'Basalt', recipients: phone, type: 'sms' });
    }, error: /^Error sending confirmation OTP to provider: messagebird error: no \(correct\) recipients found \(code: 9\)$/ },
    { sms: { provider: 'vonage', vonage: { api_key: 'vn-key', api_secret: 'vn-secret', from: 'Basalt', api_base_url: sms.url } }, check: (t: typeof sms.texts[number], phone: string) => {
      assert.deepEqual({ api_key: t.form.api_key, api_secret: t.form.api_secret, from: t.form.from, to: t.form.to }, { api_key: 'vn-key', api_secret: 'vn-secret', from: 'Basalt', to: phone });
    }, error: /^Error sending confirmation OTP to provider: vonage error: Invalid to number \(status: 3\)$/ },
    { sms: { provider: 'textlocal', textlocal: { api_key: 'tl-key', sender: 'Basalt', api_base_url: sms.url } }, check: (t: typeof sms.texts[number], phone: string) => {
      assert.deepEqual({ apikey: t.form.apikey, sender: t.form.sender, numbers: t.form.numbers }, { apikey: 'tl-key', sender: 'Basalt', numbers: phone });
    }, error: /^Error sending confirmation OTP to provider: textlocal error: No recipients specified \(code: 4\)$/ },
  ];
  try {
    for (const c of cases) {
      await phoneSettings({ sms: c.sms });
      const phone = newNumber();
      assert.equal((await client(p).auth.signInWithOtp({ phone })).error, null, c.sms.provider);
      const text = sms.texts.at(-1)!;
      assert.equal(text.provider, c.sms.provider);
      c.check(text, phone);
      assert.equal((await client(p).auth.verifyOtp({ phone, token: sms.codeFor(phone), type: 'sms' })).error, null, c.sms.provider);
      sms.failNext = true;
      const failed = await client(p).auth.signInWithOtp({ phone: newNumber() });
      assert.ok(failed.error instanceof AuthApiError, c.sms.provider);
      assert.equal(failed.error.status, 422);
      assert.equal(failed.error.code, 'sms_send_failed');
      assert.match(failed.error.message, c.error);
    }
  } finally {
    await phoneSettings();
  }
  // the providers' keys are secrets: sealed at rest, redacted on read
  const project = await platform<{ settings: { auth: { sms: { twilio: { auth_token: string; account_sid: string } } } } }>(`/projects/${p.ref}`);
  assert.equal(project.settings.auth.sms.twilio.auth_token, '********');
  assert.equal(project.settings.auth.sms.twilio.account_sid, 'AC0123456789');
});

test('without an SMS provider the code goes to the dev outbox', async () => {
  const q = await createProject('auth-phone-outbox');
  await setAuthSettings(q, { phone_enabled: true, phone_confirm_required: true });
  const phone = newNumber();
  assert.equal((await client(q).auth.signInWithOtp({ phone })).error, null);
  const [text] = await outbox(q, phone);
  assert.equal(text.type, 'sms');
  assert.match(text.html, /^Your code is \d{6}$/);
  assert.equal((await client(q).auth.verifyOtp({ phone, token: text.otp!, type: 'sms' })).error, null);
});

test('refusals: phone off, a malformed number, settings that name no provider block; admin creates phone users', async () => {
  const off = await createProject('auth-phone-off');
  const disabled = await client(off).auth.signUp({ phone: '15550001111', password: 'phone-pass-1' });
  assert.equal(disabled.error?.code, 'phone_provider_disabled');
  const bad = await client(p).auth.signInWithOtp({ phone: '+0123' });
  assert.equal(bad.error?.status, 400);
  assert.equal(bad.error?.message, 'Invalid phone number format (E.164 required)');
  const refused = await fetch(`${process.env.BASALT_TEST_GATEWAY_URL}/platform/v1/projects/${p.ref}`, {
    method: 'PATCH', headers: { authorization: `Bearer ${process.env.BASALT_TEST_PLATFORM_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ settings: { auth: { sms: { provider: 'vonage' } } } }),
  });
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /sms\.vonage is required/);

  const phone = newNumber();
  const admin = client(p, p.serviceKey).auth.admin;
  const created = await admin.createUser({ phone, password: 'phone-pass-1', phone_confirm: true });
  assert.equal(created.error, null);
  assert.equal(created.data.user?.phone, phone);
  assert.ok(created.data.user?.phone_confirmed_at);
  assert.equal((await client(p).auth.signInWithPassword({ phone, password: 'phone-pass-1' })).error, null);
  assert.equal((await admin.createUser({ phone, password: 'phone-pass-1' })).error?.code, 'phone_exists');
});

test('texts are limited per number (rate_limits.sms): the third within the window is 429', async () => {
  await phoneSettings({ rate_limits: { sms: { per_ip: 1000, per_email: 2, window_seconds: 60 } } });
  try {
    const phone = newNumber();
    assert.equal((await client(p).auth.signInWithOtp({ phone })).error, null);
    assert.equal((await client(p).auth.signInWithOtp({ phone })).error, null);
    const third = await client(p).auth.signInWithOtp({ phone: `+${phone}` });
    assert.equal(third.error?.status, 429);
    assert.equal(third.error?.code, 'over_request_rate_limit');
    assert.equal((await client(p).auth.signInWithOtp({ phone: newNumber() })).error, null, 'another number is not held back');
  } finally {
    await phoneSettings();
  }
});
