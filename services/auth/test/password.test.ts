// Email + password through supabase-js: sign-up, sign-in, the user, refresh rotation, sign-out, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';
import { client, raw, setAuthSettings, uniqueEmail } from './helpers.js';

const p = await createProject('auth-password');

test('sign up returns a session; the access token carries GoTrue claims and ref; GET /user returns the user', async () => {
  const sb = client(p);
  const email = uniqueEmail();
  const { data, error } = await sb.auth.signUp({ email, password: 'correct horse', options: { data: { name: 'Ada' } } });
  assert.equal(error, null);
  assert.ok(data.session?.access_token && data.session.refresh_token);
  assert.equal(data.user?.email, email);
  assert.deepEqual(data.user?.user_metadata, { name: 'Ada' });
  assert.equal(data.user?.app_metadata.provider, 'email');
  assert.equal(data.user?.identities?.length, 1);
  const claims = JSON.parse(Buffer.from(data.session!.access_token.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, data.user!.id);
  assert.equal(claims.ref, p.ref);
  assert.equal(claims.role, 'authenticated');
  assert.equal(claims.aud, 'authenticated');
  assert.equal(claims.aal, 'aal1');
  assert.equal(claims.amr[0].method, 'password');
  assert.equal(claims.is_anonymous, false);
  assert.ok(claims.session_id);
  assert.equal(claims.exp - claims.iat, 3600);
  // getClaims: no asymmetric keys in jwks, so auth-js verifies the HS256 token through GET /user.
  const verified = await sb.auth.getClaims(data.session!.access_token);
  assert.equal(verified.error, null);
  assert.equal(verified.data?.claims.sub, data.user!.id);
  const got = await sb.auth.getUser(data.session!.access_token);
  assert.equal(got.error, null);
  assert.equal(got.data.user?.id, data.user!.id);
  // auth.uid() and auth.email() read this token's claims as PostgREST sets them, and the sub is a row of auth.users.
  const lit = JSON.stringify(claims).replace(/'/g, "''");
  const [me] = await p.sql(`select set_config('request.jwt.claims', '${lit}', true);
    select auth.uid()::text as uid, auth.email() as email, auth.role() as role, u.email as row_email
      from auth.users u where u.id = auth.uid()`);
  assert.deepEqual(me, { uid: data.user!.id, email, role: 'authenticated', row_email: email });
});

test('sign in with password; wrong password and unknown email give the same invalid_credentials', async () => {
  const sb = client(p);
  const email = uniqueEmail();
  await sb.auth.signUp({ email, password: 'secret-pass-1' });
  const ok = await sb.auth.signInWithPassword({ email: email.toUpperCase(), password: 'secret-pass-1' });
  assert.equal(ok.error, null);
  assert.equal(ok.data.user?.email, email);
  const wrong = await sb.auth.signInWithPassword({ email, password: 'nope-nope' });
  const unknown = await sb.auth.signInWithPassword({ email: uniqueEmail('ghost'), password: 'nope-nope' });
  for (const r of [wrong, unknown]) {
    assert.equal(r.error?.status, 400);
    assert.equal(r.error?.code, 'invalid_credentials');
    assert.equal(r.error?.message, 'Invalid login credentials');
  }
});

test('duplicate sign-up with autoconfirm is 422 user_already_exists; weak password 422 weak_password', async () => {
  const sb = client(p);
  const email = uniqueEmail();
  await sb.auth.signUp({ email, password: 'secret-pass-1' });
  const again = await sb.auth.signUp({ email, password: 'secret-pass-2' });
  assert.equal(again.error?.status, 422);
  assert.equal(again.error?.code, 'user_already_exists');
  const weak = await sb.auth.signUp({ email: uniqueEmail(), password: '123' });
  assert.equal(weak.error?.status, 422);
  assert.equal(weak.error?.code, 'weak_password');
  assert.deepEqual((weak.error as any).reasons, ['length']);
  const long = await sb.auth.signUp({ email: uniqueEmail(), password: 'x'.repeat(73) });
  assert.equal(long.error?.status, 422);
  const badEmail = await raw(p, '/signup', { method: 'POST', json: { email: 'not-an-email', password: 'secret-pass' } });
  assert.equal(badEmail.status, 400);
  assert.equal(badEmail.body.code, 'validation_failed');
  assert.equal(badEmail.headers.get('x-supabase-api-version'), '2024-01-01');
  const legacy = await raw(p, '/signup', { method: 'POST', json: { email: 'not-an-email', password: 'secret-pass' }, legacy: true });
  assert.deepEqual(Object.keys(legacy.body).sort(), ['code', 'error_code', 'msg']);
  assert.equal(legacy.body.code, 400);
  const badJson = await raw(p, '/signup', { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body.code, 'bad_json');
});

test('with confirmation required, sign-up returns a bare user; a second sign-up of a confirmed address gets a fake id', async () => {
  const q = await createProject('auth-confirm');
  await setAuthSettings(q, { email_confirm_required: true });
  const sb = client(q);
  const email = uniqueEmail();
  const first = await sb.auth.signUp({ email, password: 'secret-pass-1' });
  assert.equal(first.error, null);
  assert.equal(first.data.session, null);
  assert.equal(first.data.user?.email, email);
  assert.ok(first.data.user?.confirmation_sent_at);
  const signIn = await sb.auth.signInWithPassword({ email, password: 'secret-pass-1' });
  assert.equal(signIn.error?.code, 'email_not_confirmed');
  await q.sql(`update auth.users set email_confirmed_at = now() where email = '${email}'`);
  const second = await sb.auth.signUp({ email, password: 'other-pass-2' });
  assert.equal(second.error, null);
  assert.notEqual(second.data.user?.id, first.data.user?.id);
  assert.deepEqual(second.data.user?.identities, []);
  assert.equal((await sb.auth.signInWithPassword({ email, password: 'secret-pass-1' })).error, null);
});

test('update the user: metadata, email, password; a password change ends the other sessions', async () => {
  const email = uniqueEmail();
  const a = client(p);
  await a.auth.signUp({ email, password: 'first-pass-1' });
  const b = client(p);
  const other = await b.auth.signInWithPassword({ email, password: 'first-pass-1' });
  const s = await a.auth.signInWithPassword({ email, password: 'first-pass-1' });
  await a.auth.setSession({ access_token: s.data.session!.access_token, refresh_token: s.data.session!.refresh_token });
  const md = await a.auth.updateUser({ data: { plan: 'pro' } });
  assert.equal(md.error, null);
  assert.equal(md.data.user?.user_metadata.plan, 'pro');
  const same = await a.auth.updateUser({ password: 'first-pass-1' });
  assert.equal(same.error?.code, 'same_password');
  const pw = await a.auth.updateUser({ password: 'second-pass-2' });
  assert.equal(pw.error, null);
  assert.equal((await a.auth.signInWithPassword({ email, password: 'first-pass-1' })).error?.code, 'invalid_credentials');
  assert.equal((await a.auth.signInWithPassword({ email, password: 'second-pass-2' })).error, null);
  const stale = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: other.data.session!.refresh_token } });
  assert.equal(stale.status, 400);
  const newEmail = uniqueEmail('changed');
  const em = await a.auth.updateUser({ email: newEmail });
  assert.equal(em.error, null);
  assert.equal(em.data.user?.email, newEmail);
  const dup = await client(p).auth.signUp({ email: newEmail, password: 'whatever-1' });
  assert.equal(dup.error?.code, 'user_already_exists');
  const otherEmail = uniqueEmail('other');
  await client(p).auth.signUp({ email: otherEmail, password: 'whatever-1' });
  const taken = await a.auth.updateUser({ email: otherEmail });
  assert.equal(taken.error?.status, 422);
  assert.equal(taken.error?.code, 'email_exists');
});

test('refresh rotates the token; reuse of a rotated token after the interval revokes the family', async () => {
  await setAuthSettings(p, { refresh_token_reuse_interval: 0 });
  try {
    const sb = client(p);
    const email = uniqueEmail();
    const s0 = (await sb.auth.signUp({ email, password: 'secret-pass-1' })).data.session!;
    const tokens = [s0.refresh_token];
    for (let i = 0; i < 3; i++) {
      const r = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: tokens.at(-1) } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.notEqual(r.body.refresh_token, tokens.at(-1));
      assert.equal(r.body.user.email, email);
      tokens.push(r.body.refresh_token);
    }
    await new Promise((r) => setTimeout(r, 1100));
    // The immediate parent of the active token hands back that active token (the client lost the last answer).
    const retried = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: tokens[2] } });
    assert.equal(retried.status, 200);
    assert.equal(retried.body.refresh_token, tokens[3]);
    const replay = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: tokens[0] } });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.code, 'refresh_token_already_used');
    for (const t of tokens) {
      const r = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: t } });
      assert.equal(r.status, 400, `token ${t} still works`);
    }
    // The session is gone, so its access token no longer reads the user.
    const me = await raw(p, '/user', { bearer: s0.access_token });
    assert.equal(me.status, 403);
    assert.equal(me.body.code, 'session_not_found');
  } finally {
    await setAuthSettings(p, {});
  }
});

test('the immediate parent of the active token returns the active token; concurrent refreshes all succeed', async () => {
  const sb = client(p);
  const s0 = (await sb.auth.signUp({ email: uniqueEmail(), password: 'secret-pass-1' })).data.session!;
  const results = await Promise.all(
    Array.from({ length: 12 }, () => raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: s0.refresh_token } })),
  );
  assert.deepEqual(results.map((r) => r.status), results.map(() => 200));
  const children = new Set(results.map((r) => r.body.refresh_token));
  assert.equal(children.size, 1, 'every concurrent refresh gets the same child');
  const child = [...children][0];
  const next = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: child } });
  assert.equal(next.status, 200);
  const missing = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: 'not-a-real-token' } });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.code, 'refresh_token_not_found');
  const bad = await raw(p, '/token?grant_type=nope', { method: 'POST', json: {} });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'invalid_credentials');
});

test('sign-out: local ends this session, others keeps it, global ends all; refresh then fails', async () => {
  const email = uniqueEmail();
  await client(p).auth.signUp({ email, password: 'secret-pass-1' });
  const sessions = [];
  for (let i = 0; i < 3; i++) sessions.push((await client(p).auth.signInWithPassword({ email, password: 'secret-pass-1' })).data.session!);
  const refresh = (t: string) => raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: t } });
  const local = await raw(p, '/logout?scope=local', { method: 'POST', bearer: sessions[0].access_token });
  assert.equal(local.status, 204);
  assert.equal((await refresh(sessions[0].refresh_token)).status, 400);
  const others = await raw(p, '/logout?scope=others', { method: 'POST', bearer: sessions[1].access_token });
  assert.equal(others.status, 204);
  assert.equal((await refresh(sessions[2].refresh_token)).status, 400);
  const r1 = await refresh(sessions[1].refresh_token);
  assert.equal(r1.status, 200);
  const sb = client(p);
  await sb.auth.setSession({ access_token: r1.body.access_token, refresh_token: r1.body.refresh_token });
  const out = await sb.auth.signOut();
  assert.equal(out.error, null);
  assert.equal((await refresh(r1.body.refresh_token)).status, 400);
  assert.equal((await raw(p, '/logout?scope=bogus', { method: 'POST', bearer: sessions[1].access_token })).status, 400);
});

// supabase/auth answers a token it cannot verify with 403 bad_jwt (NewForbiddenError in parseJWTClaims)
test('forged tokens are refused with 403 bad_jwt: alg none, wrong secret, tampered claims, another project', async () => {
  const sb = client(p);
  const s = (await sb.auth.signUp({ email: uniqueEmail(), password: 'secret-pass-1' })).data.session!;
  const [h, body] = s.access_token.split('.');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const other = await createProject('auth-other');
  const forged = [
    `${b64({ alg: 'none', typ: 'JWT' })}.${body}.`,
    `${b64({ alg: 'none', typ: 'JWT' })}.${body}.${s.access_token.split('.')[2]}`,
    `${h}.${b64({ ...claims, role: 'service_role' })}.${s.access_token.split('.')[2]}`,
    (await import('@basalt/jwt')).signJwt(claims, (await import('@basalt/jwt')).hmacKey('not-the-secret-not-the-secret-123')),
    other.token({ sub: claims.sub, session_id: claims.session_id, ref: other.ref }),
    other.token({ sub: claims.sub, session_id: claims.session_id, ref: p.ref }),
  ];
  for (const t of forged) {
    const r = await raw(p, '/user', { bearer: t });
    assert.equal(r.status, 403, `${t} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, 'bad_jwt');
  }
  const anonAsUser = await raw(p, '/user');
  assert.equal(anonAsUser.status, 403);
  assert.equal(anonAsUser.body.code, 'bad_jwt');
  const genuine = await raw(p, '/user', { bearer: s.access_token });
  assert.equal(genuine.status, 200);
  // Project B's gateway path with project A's user token: refused.
  const cross = await raw(other, '/user', { bearer: s.access_token });
  assert.equal(cross.status, 403);
  assert.equal(cross.body.code, 'bad_jwt');
});

test('a 2 MB body is refused with 413 before any hashing; jwks is empty for HS256 projects', async () => {
  const t = Date.now();
  const r = await raw(p, '/signup', { method: 'POST', json: { email: uniqueEmail(), password: 'x'.repeat(2_000_000) } });
  assert.equal(r.status, 413);
  assert.ok(Date.now() - t < 5000, "refused before the body is hashed");
  const jwks = await fetch(`${p.url}/auth/v1/.well-known/jwks.json`);
  assert.deepEqual(await jwks.json(), { keys: [] });
});

test('GET /settings reflects the project settings', async () => {
  const r = await raw(p, '/settings');
  assert.equal(r.status, 200);
  assert.equal(r.body.mailer_autoconfirm, true);
  assert.equal(r.body.external.email, true);
  assert.equal(r.body.external.github, false);
  assert.equal(r.body.disable_signup, false);
});
