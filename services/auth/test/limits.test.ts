// Rate limits per IP and per email (Redis, limits from project settings), the timing of failed sign-ins,
// SMTP delivery through a local fake server, and PKCE email links.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import pg from 'pg';
import { createProject, platform, testEnv } from '@basalt/testkit';
import { startFakeSmtp } from './fake-smtp.js';
import { client, outbox, raw, setAuthSettings, uniqueEmail } from './helpers.js';

const limits = (perIp: number, perEmail: number) => ({ per_ip: perIp, per_email: perEmail, window_seconds: 60 });

/**
 * The limits count in fixed windows aligned to the clock (a minute here), so a burst that straddles a window's end
 * starts counting again halfway: the counts below start early in a window, with the whole test's time to spare.
 */
async function freshWindow(seconds: number, needMs: number): Promise<void> {
  const left = seconds * 1000 - (Date.now() % (seconds * 1000));
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}

test('sign-in: the per-email limit, then the per-IP limit, answer 429 over_request_rate_limit', async () => {
  const p = await createProject('auth-limits');
  await setAuthSettings(p, { rate_limits: { token: limits(6, 3), signup: limits(2, 10), recover: limits(100, 2), verify: limits(3, 100), otp: limits(100, 1) } });
  await freshWindow(60, 20_000);
  const email = uniqueEmail('limited');
  const tries = [];
  for (let i = 0; i < 4; i++) tries.push(await client(p).auth.signInWithPassword({ email, password: 'whatever-1' }));
  assert.deepEqual(tries.map((t) => t.error?.status), [400, 400, 400, 429]);
  assert.equal(tries[3].error?.code, 'over_request_rate_limit');
  const others = [];
  for (let i = 0; i < 3; i++) others.push((await client(p).auth.signInWithPassword({ email: uniqueEmail(), password: 'whatever-1' })).error?.status);
  assert.deepEqual(others, [400, 400, 429]);
  const signups = [];
  for (let i = 0; i < 3; i++) signups.push((await client(p).auth.signUp({ email: uniqueEmail(), password: 'limit-pass-1' })).error?.status);
  assert.deepEqual(signups, [undefined, undefined, 429]);
  const recover = [];
  for (let i = 0; i < 3; i++) recover.push((await raw(p, '/recover', { method: 'POST', json: { email } })).status);
  assert.deepEqual(recover, [200, 200, 429]);
  const otp = [];
  for (let i = 0; i < 2; i++) otp.push((await raw(p, '/otp', { method: 'POST', json: { email } })).status);
  assert.deepEqual(otp, [200, 429]);
  const verify = [];
  for (let i = 0; i < 4; i++) verify.push((await raw(p, '/verify', { method: 'POST', json: { type: 'email', email, token: '000000' } })).status);
  assert.deepEqual(verify, [403, 403, 403, 429]);
  // Limits are per project: another project is unaffected.
  const q = await createProject('auth-limits-other');
  assert.equal((await client(q).auth.signInWithPassword({ email, password: 'whatever-1' })).error?.status, 400);
});

test('a wrong password and an unknown address take the same time (dummy hash on a miss)', async () => {
  const p = await createProject('auth-timing');
  const email = uniqueEmail('timed');
  await client(p).auth.signUp({ email, password: 'timing-pass-1' });
  const time = async (e: string) => {
    const t = performance.now();
    await raw(p, '/token?grant_type=password', { method: 'POST', json: { email: e, password: 'wrong-pass-1' } });
    return performance.now() - t;
  };
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 12; i++) {
    known.push(await time(email));
    unknown.push(await time(uniqueEmail('nobody')));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  // Without the dummy hash an unknown address would answer in a few ms against bcrypt's tens; the ratio stays
  // meaningful on a loaded machine where absolute differences do not.
  const [k, u] = [median(known), median(unknown)];
  assert.ok(u > 0.6 * k && k > 0.6 * u, `known ${k.toFixed(1)} ms vs unknown ${u.toFixed(1)} ms`);
});

async function controlSql(q: string): Promise<{ s: string }[]> {
  const c = new pg.Client({ connectionString: testEnv().databaseUrl });
  await c.connect();
  try {
    return (await c.query(q)).rows;
  } finally {
    await c.end();
  }
}

test('with SMTP configured, mail goes to the server with the project template, not to the outbox', async () => {
  const smtp = await startFakeSmtp();
  after(() => smtp.close());
  const p = await createProject('auth-smtp');
  await setAuthSettings(p, {
    email_confirm_required: true,
    smtp: { host: smtp.host, port: smtp.port, user: 'mailer', pass: 'smtp-s3cret', admin_email: 'noreply@app.test', sender_name: 'App' },
    templates: { signup: { subject: 'Welcome to App', body: '<p>Code {{ .Token }} for {{ .Email }}</p>' } },
  });
  // the password is stored sealed and read back redacted; writing the redacted value back keeps it
  const shown = await platform<{ settings: { auth: { smtp: { pass: string; user: string } } } }>(`/projects/${p.ref}`);
  assert.equal(shown.settings.auth.smtp.pass, '********');
  assert.equal(shown.settings.auth.smtp.user, 'mailer');
  const [stored] = await controlSql(`select settings::text as s from platform.projects where ref = '${p.ref}'`);
  assert.ok(!stored.s.includes('smtp-s3cret'), 'the SMTP password is not stored in the clear');
  await setAuthSettings(p, { ...shown.settings.auth, email_confirm_required: true });
  const email = uniqueEmail('smtp');
  assert.equal((await client(p).auth.signUp({ email, password: 'smtp-pass-1' })).error, null);
  assert.equal(smtp.received.length, 1);
  assert.deepEqual(smtp.logins, ['mailer:smtp-s3cret']);
  assert.equal(smtp.received[0].to, email);
  assert.match(smtp.received[0].data, /Subject: Welcome to App/);
  const code = /Code (\d{6}) for/.exec(smtp.received[0].data.replace(/=\n/g, ''))![1];
  assert.deepEqual(await outbox(p), []);
  const v = await client(p).auth.verifyOtp({ email, token: code, type: 'signup' });
  assert.equal(v.error, null);
});

test('PKCE sign-up: the emailed link returns ?code= which the same client exchanges for a session', async () => {
  const p = await createProject('auth-pkce-email');
  await setAuthSettings(p, { email_confirm_required: true, uri_allow_list: ['http://app.test/**'] });
  const sb = createClient(p.url, p.anonKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, flowType: 'pkce' }, realtime: { transport: WebSocket as never } });
  const email = uniqueEmail('pkce');
  const r = await sb.auth.signUp({ email, password: 'pkce-pass-1', options: { emailRedirectTo: 'http://app.test/done' } });
  assert.equal(r.error, null);
  const mail = (await outbox(p, email))[0];
  assert.match(mail.action_link!, /token=pkce_[0-9a-f]{56}/);
  const res = await fetch(mail.action_link!, { redirect: 'manual' });
  const back = new URL(res.headers.get('location')!);
  assert.equal(back.origin + back.pathname, 'http://app.test/done');
  const ex = await sb.auth.exchangeCodeForSession(back.searchParams.get('code')!);
  assert.equal(ex.error, null);
  assert.equal(ex.data.user?.email, email);
  assert.ok(ex.data.user?.email_confirmed_at);
  // A refresh token of this project means nothing to another one.
  const q = await createProject('auth-pkce-other');
  const cross = await raw(q, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: ex.data.session!.refresh_token } });
  assert.equal(cross.status, 400);
  assert.equal(cross.body.code, 'refresh_token_not_found');
});
