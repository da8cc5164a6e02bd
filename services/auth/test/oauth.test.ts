// OAuth sign-in with GitHub and Google played by a local fake: implicit and PKCE flows through supabase-js,
// identities linked only through verified emails, disabled providers and forged state refused.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { createProject, type TestProject } from '@basalt/testkit';
import { client, raw, setAuthSettings, uniqueEmail } from './helpers.js';
import { startFakeOAuth } from './fake-oauth.js';

const fake = await startFakeOAuth();
after(() => fake.close());
const p = await createProject('auth-oauth');
await setAuthSettings(p, { uri_allow_list: ['http://app.test/**'], external: { github: fake.settings('github'), google: fake.settings('google') } });

/** Follows redirects like a browser would, until one leaves both our auth routes and the provider. */
async function browse(url: string): Promise<URL> {
  for (let i = 0; i < 5; i++) {
    if (!url.includes('/auth/v1/') && !url.startsWith(fake.url)) return new URL(url);
    const r = await fetch(url, { redirect: 'manual' });
    assert.ok([302, 303].includes(r.status), `${url} → ${r.status} ${await r.text()}`);
    url = new URL(r.headers.get('location')!, url).toString();
  }
  throw new Error('too many redirects');
}

const pkceClient = (q: TestProject) =>
  createClient(q.url, q.anonKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, flowType: 'pkce' }, realtime: { transport: WebSocket as never } });

test('GitHub, implicit flow: tokens and the provider token come back in the fragment; the identity is linked', async () => {
  const email = uniqueEmail('gh');
  fake.next.github = { id: '4242', email, verified: true, name: 'Octo' };
  const sb = client(p);
  const { data, error } = await sb.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: 'http://app.test/cb', skipBrowserRedirect: true } });
  assert.equal(error, null);
  const back = await browse(data.url!);
  assert.equal(back.pathname, '/cb');
  const f = new URLSearchParams(back.hash.slice(1));
  assert.ok(f.get('provider_token')?.startsWith('tok-'));
  const user = (await sb.auth.getUser(f.get('access_token')!)).data.user!;
  assert.equal(user.email, email);
  assert.ok(user.email_confirmed_at);
  assert.equal(user.app_metadata.provider, 'github');
  assert.equal(user.identities?.[0].provider, 'github');
  assert.equal(user.identities?.[0].id, '4242');
  assert.equal(user.user_metadata.user_name, 'octo');
  // The same GitHub account signs in to the same user again.
  const again = new URLSearchParams((await browse((await sb.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: 'http://app.test/cb', skipBrowserRedirect: true } })).data.url!)).hash.slice(1));
  assert.equal((await sb.auth.getUser(again.get('access_token')!)).data.user?.id, user.id);
});

test('Google, PKCE flow: ?code= exchanged with the verifier by exchangeCodeForSession; a verified email links to the existing account', async () => {
  const email = uniqueEmail('gg');
  const existing = (await client(p).auth.signUp({ email, password: 'google-pass-1' })).data.user!;
  fake.next.google = { id: 'g-1', email, verified: true, name: 'Goo' };
  const sb = pkceClient(p);
  const { data } = await sb.auth.signInWithOAuth({ provider: 'google', options: { redirectTo: 'http://app.test/pk', skipBrowserRedirect: true } });
  assert.match(data.url!, /code_challenge=/);
  const back = await browse(data.url!);
  const code = back.searchParams.get('code')!;
  assert.ok(code);
  // A client without the verifier cannot use the code.
  const wrongVerifier = await raw(p, '/token?grant_type=pkce', { method: 'POST', json: { auth_code: code, code_verifier: 'x'.repeat(43) } });
  assert.equal(wrongVerifier.status, 400);
  assert.equal(wrongVerifier.body.code, 'bad_code_verifier');
  // As in GoTrue, a wrong verifier consumes the code: start again.
  const { data: d2 } = await sb.auth.signInWithOAuth({ provider: 'google', options: { redirectTo: 'http://app.test/pk', skipBrowserRedirect: true } });
  const code2 = (await browse(d2.url!)).searchParams.get('code')!;
  const ex = await sb.auth.exchangeCodeForSession(code2);
  assert.equal(ex.error, null);
  assert.equal(ex.data.user?.id, existing.id);
  assert.ok(ex.data.session?.provider_token);
  assert.ok(ex.data.session?.provider_refresh_token);
  assert.deepEqual(ex.data.user?.identities?.map((i) => i.provider).sort(), ['email', 'google']);
  assert.deepEqual((ex.data.user?.app_metadata.providers as string[]).sort(), ['email', 'google']);
  const reuse = await client(p).auth.exchangeCodeForSession(code2);
  assert.ok(reuse.error && reuse.error.status! >= 400 && reuse.error.status! < 500);
});

test('an unverified provider email never takes over an existing account', async () => {
  const email = uniqueEmail('victim');
  const victim = (await client(p).auth.signUp({ email, password: 'victim-pass-1' })).data.user!;
  fake.next.google = { id: 'g-attacker', email, verified: false, name: 'Mallory' };
  const sb = client(p);
  const { data } = await sb.auth.signInWithOAuth({ provider: 'google', options: { redirectTo: 'http://app.test/cb', skipBrowserRedirect: true } });
  const f = new URLSearchParams((await browse(data.url!)).hash.slice(1));
  const user = (await sb.auth.getUser(f.get('access_token')!)).data.user!;
  assert.notEqual(user.id, victim.id);
  assert.notEqual(user.email, email);
});

test('a disabled provider is 400; a forged or foreign state is refused', async () => {
  const r = await fetch(`${p.url}/auth/v1/authorize?provider=gitlab`, { redirect: 'manual' });
  assert.equal(r.status, 400);
  const q = await createProject('auth-oauth-other');
  const off = await fetch(`${q.url}/auth/v1/authorize?provider=github`, { redirect: 'manual' });
  assert.equal(off.status, 400);
  const forged = await fetch(`${p.url}/auth/v1/callback?code=x&state=00000000-0000-0000-0000-000000000000`, { redirect: 'manual' });
  assert.equal(forged.status, 302);
  assert.match(forged.headers.get('location')!, /error_code=bad_oauth_state/);
  // A state issued for project A is unknown to project B.
  fake.next.github = { id: '777', email: uniqueEmail('x'), verified: true, name: 'X' };
  const start = await fetch(`${p.url}/auth/v1/authorize?provider=github&redirect_to=http://app.test/cb`, { redirect: 'manual' });
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  const cross = await fetch(`${q.url}/auth/v1/callback?code=x&state=${state}`, { redirect: 'manual' });
  assert.match(cross.headers.get('location')!, /error_code=bad_oauth_state/);
});

test('each /authorize deletes expired flow states, so anonymous calls cannot grow the table; live flows stay', async () => {
  const flow = (name: string, provider: string, created: string, codeIssued: string | null = null) => p.sql(
    `insert into auth.flow_state (provider_type, authentication_method, redirect_to, created_at, auth_code, auth_code_issued_at)
     values ('${provider}', 'oauth', 'expiry-test:${name}', now() - interval '${created}',
       ${codeIssued ? `gen_random_uuid()::text, now() - interval '${codeIssued}'` : 'null, null'})`);
  await flow('oauth-expired', 'github', '11 minutes');
  await flow('code-expired', 'github', '8 minutes', '6 minutes');
  await flow('email-expired', 'email', '25 hours');
  await flow('oauth-live', 'github', '9 minutes');
  await flow('code-live', 'github', '9 minutes', '4 minutes');
  await flow('email-live', 'email', '23 hours');
  const r = await fetch(`${p.url}/auth/v1/authorize?provider=github&redirect_to=http://app.test/cb`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  const left = await p.sql(`select redirect_to from auth.flow_state where redirect_to like 'expiry-test:%' order by 1`);
  assert.deepEqual(left.map((f) => f.redirect_to), ['expiry-test:code-live', 'expiry-test:email-live', 'expiry-test:oauth-live']);
});

test('an OAuth state older than its 10 minutes is refused at the callback', async () => {
  fake.next.github = { id: '778', email: uniqueEmail('late'), verified: true, name: 'Late' };
  const start = await fetch(`${p.url}/auth/v1/authorize?provider=github&redirect_to=http://app.test/cb`, { redirect: 'manual' });
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  await p.sql(`update auth.flow_state set created_at = now() - interval '11 minutes' where id = '${state}'`);
  const late = await fetch(`${p.url}/auth/v1/callback?code=x&state=${state}`, { redirect: 'manual' });
  const back = new URL(late.headers.get('location')!);
  // expired, or already deleted by a cleanup: either way no session
  assert.match(back.hash, /error_code=(flow_state_expired|bad_oauth_state)/);
  assert.doesNotMatch(back.hash, /access_token/);
});

test('manual linking: linkIdentity adds GitHub to an email user; unlinkIdentity removes it but never the last one', async () => {
  const sb = client(p);
  const email = uniqueEmail('linker');
  await sb.auth.signUp({ email, password: 'link-pass-1' });
  const disabled = await sb.auth.linkIdentity({ provider: 'github', options: { redirectTo: 'http://app.test/cb', skipBrowserRedirect: true } });
  assert.equal(disabled.error?.code, 'manual_linking_disabled');
  await setAuthSettings(p, { manual_linking_enabled: true, uri_allow_list: ['http://app.test/**'], external: { github: fake.settings('github'), google: fake.settings('google') } });
  fake.next.github = { id: '9001', email: uniqueEmail('elsewhere'), verified: true, name: 'Linked' };
  const link = await sb.auth.linkIdentity({ provider: 'github', options: { redirectTo: 'http://app.test/cb', skipBrowserRedirect: true } });
  assert.equal(link.error, null);
  const f = new URLSearchParams((await browse(link.data.url!)).hash.slice(1));
  await sb.auth.setSession({ access_token: f.get('access_token')!, refresh_token: f.get('refresh_token')! });
  const ids = await sb.auth.getUserIdentities();
  assert.deepEqual(ids.data?.identities.map((i) => i.provider).sort(), ['email', 'github']);
  // The same GitHub account cannot be linked to a second user.
  const other = client(p);
  await other.auth.signUp({ email: uniqueEmail('second'), password: 'link-pass-1' });
  const again = await other.auth.linkIdentity({ provider: 'github', options: { redirectTo: 'http://app.test/cb', skipBrowserRedirect: true } });
  const refused = await browse(again.data.url!);
  assert.equal(new URLSearchParams(refused.hash.slice(1)).get('error_code'), 'identity_already_exists');
  const github = ids.data!.identities.find((i) => i.provider === 'github')!;
  assert.equal((await sb.auth.unlinkIdentity(github)).error, null);
  const left = (await sb.auth.getUserIdentities()).data!.identities;
  assert.deepEqual(left.map((i) => i.provider), ['email']);
  assert.equal((await sb.auth.unlinkIdentity(left[0])).error?.code, 'single_identity_not_deletable');
});

test('signInWithIdToken (Google): a valid ID token signs in; wrong audience, issuer, key, expiry or nonce are 400', async () => {
  const email = uniqueEmail('idt');
  const now = Math.floor(Date.now() / 1000);
  const base = { iss: 'https://accounts.google.com', aud: 'google-client', sub: 'g-idt-1', email, email_verified: true, name: 'Idt', iat: now, exp: now + 600 };
  const nonceHash = createHash('sha256').update('n-123').digest('hex');
  const sb = client(p);
  const ok = await sb.auth.signInWithIdToken({ provider: 'google', token: fake.signIdToken({ ...base, nonce: nonceHash }), nonce: 'n-123' });
  assert.equal(ok.error, null);
  assert.equal(ok.data.user?.email, email);
  assert.equal(ok.data.user?.identities?.[0].provider, 'google');
  const bad = [
    fake.signIdToken({ ...base, aud: 'someone-else' }),
    fake.signIdToken({ ...base, iss: 'https://evil.test' }),
    fake.signIdToken({ ...base, exp: now - 10 }),
    fake.signIdToken({ ...base, nonce: nonceHash }),
    fake.signIdToken(base, { kid: 'unknown' }),
    `${fake.signIdToken(base).split('.').slice(0, 2).join('.')}.${Buffer.from('forged').toString('base64url')}`,
    'not-a-jwt',
  ];
  for (const token of bad) {
    const r = await sb.auth.signInWithIdToken({ provider: 'google', token });
    assert.equal(r.error?.status, 400, `${token.slice(0, 40)}… → ${r.error?.status} ${r.error?.message}`);
  }
  assert.equal((await sb.auth.signInWithIdToken({ provider: 'github', token: fake.signIdToken(base) })).error?.status, 400);
});
