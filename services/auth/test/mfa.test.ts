// TOTP MFA through supabase-js's auth.mfa, with codes computed here (RFC 6238) from the enrolled secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createProject } from '@basalt/testkit';
import { client, raw, uniqueEmail } from './helpers.js';

const p = await createProject('auth-mfa');

function base32(s: string): Buffer {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '')) bits += A.indexOf(c).toString(2).padStart(5, '0');
  return Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
}

function totp(secret: string, at = Date.now()): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const h = createHmac('sha1', base32(secret)).update(msg).digest();
  const o = h[19] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const claimsOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());

test('enroll, challenge, verify: the session becomes aal2 with totp in amr; unenroll needs aal2', async () => {
  const sb = client(p);
  const email = uniqueEmail('mfa');
  const s = (await sb.auth.signUp({ email, password: 'mfa-pass-1' })).data.session!;
  await sb.auth.setSession(s);
  const enrolled = await sb.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'phone app', issuer: 'Basalt Test' });
  assert.equal(enrolled.error, null);
  const f = enrolled.data!;
  assert.equal(f.type, 'totp');
  assert.match(f.totp.uri, /^otpauth:\/\/totp\/Basalt%20Test:.*\?secret=[A-Z2-7]+&issuer=Basalt%20Test$/);
  assert.match(f.totp.qr_code, /^data:image\/svg\+xml;utf-8,<svg/);
  const ch = await sb.auth.mfa.challenge({ factorId: f.id });
  assert.equal(ch.error, null);
  assert.ok(ch.data!.expires_at > Date.now() / 1000);
  const wrong = await sb.auth.mfa.verify({ factorId: f.id, challengeId: ch.data!.id, code: totp(f.totp.secret, Date.now() - 10 * 60_000) });
  assert.equal(wrong.error?.code, 'mfa_verification_failed');
  // A challenge is used once: a fresh one for the right code.
  const ch2 = await sb.auth.mfa.challenge({ factorId: f.id });
  const ok = await sb.auth.mfa.verify({ factorId: f.id, challengeId: ch2.data!.id, code: totp(f.totp.secret) });
  assert.equal(ok.error, null);
  const claims = claimsOf(ok.data!.access_token);
  assert.equal(claims.aal, 'aal2');
  assert.deepEqual(claims.amr.map((a: { method: string }) => a.method).sort(), ['password', 'totp']);
  const aal = await sb.auth.mfa.getAuthenticatorAssuranceLevel();
  assert.equal(aal.data?.currentLevel, 'aal2');
  const listed = await sb.auth.mfa.listFactors();
  assert.equal(listed.data?.totp.length, 1);
  assert.equal(listed.data?.totp[0].status, 'verified');

  // A fresh password sign-in is aal1 with aal2 next; it cannot remove the factor or change the password.
  const other = client(p);
  await other.auth.signInWithPassword({ email, password: 'mfa-pass-1' });
  const level = await other.auth.mfa.getAuthenticatorAssuranceLevel();
  assert.deepEqual([level.data?.currentLevel, level.data?.nextLevel], ['aal1', 'aal2']);
  assert.equal((await other.auth.mfa.unenroll({ factorId: f.id })).error?.code, 'insufficient_aal');
  assert.equal((await other.auth.updateUser({ password: 'another-pass-2' })).error?.code, 'insufficient_aal');
  // Its refresh keeps aal1; the aal2 session's refresh keeps aal2.
  const refreshed = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: ok.data!.refresh_token } });
  assert.equal(claimsOf(refreshed.body.access_token).aal, 'aal2');

  const admin = client(p, p.serviceKey).auth.admin;
  const factors = await admin.mfa.listFactors({ userId: s.user.id });
  assert.equal(factors.data?.factors.length, 1);
  assert.equal((await sb.auth.mfa.unenroll({ factorId: f.id })).error, null);
  assert.equal((await sb.auth.mfa.listFactors()).data?.totp.length, 0);
  // The admin can remove a user's factor, and sign a user out everywhere with their token.
  const f2 = (await sb.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'second' })).data!;
  assert.equal((await admin.mfa.deleteFactor({ userId: s.user.id, id: f2.id })).error, null);
  assert.equal((await admin.mfa.listFactors({ userId: s.user.id })).data?.factors.length, 0);
  const current = (await sb.auth.getSession()).data.session!;
  assert.equal((await admin.signOut(current.access_token, 'global')).error, null);
  const after = await raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: current.refresh_token } });
  assert.equal(after.status, 400);
});

test("factors of another user are not found; bad input is 4xx", async () => {
  const a = client(p);
  await a.auth.signUp({ email: uniqueEmail('a'), password: 'mfa-pass-1' });
  const f = (await a.auth.mfa.enroll({ factorType: 'totp' })).data!;
  const b = client(p);
  await b.auth.signUp({ email: uniqueEmail('b'), password: 'mfa-pass-1' });
  assert.equal((await b.auth.mfa.challenge({ factorId: f.id })).error?.status, 404);
  assert.equal((await b.auth.mfa.unenroll({ factorId: f.id })).error?.status, 404);
  const token = (await b.auth.getSession()).data.session!.access_token;
  assert.equal((await raw(p, '/factors', { method: 'POST', bearer: token, json: { factor_type: 'sms' } })).status, 422);
  assert.equal((await raw(p, '/factors/nope/challenge', { method: 'POST', bearer: token, json: {} })).status, 404);
  const ch = (await a.auth.mfa.challenge({ factorId: f.id })).data!;
  assert.equal((await raw(p, `/factors/${f.id}/verify`, { method: 'POST', bearer: token, json: { challenge_id: ch.id, code: '123456' } })).status, 404);
  // An expired challenge.
  await p.sql(`update auth.mfa_challenges set created_at = now() - interval '10 minutes' where id = '${ch.id}'`);
  assert.equal((await a.auth.mfa.verify({ factorId: f.id, challengeId: ch.id, code: totp(f.totp.secret) })).error?.code, 'mfa_challenge_expired');
  const secretAtRest = (await p.sql(`select secret from auth.mfa_factors where id = '${f.id}'`))[0].secret;
  assert.ok(!secretAtRest.includes(f.totp.secret), 'the TOTP secret is sealed at rest');
});

test("an ended session's aal2 access token cannot remove a factor, challenge it or sign anyone out", async () => {
  const sb = client(p);
  const email = uniqueEmail('mfa-ended');
  await sb.auth.setSession((await sb.auth.signUp({ email, password: 'mfa-pass-1' })).data.session!);
  const f = (await sb.auth.mfa.enroll({ factorType: 'totp' })).data!;
  const ch = (await sb.auth.mfa.challenge({ factorId: f.id })).data!;
  const aal2 = (await sb.auth.mfa.verify({ factorId: f.id, challengeId: ch.id, code: totp(f.totp.secret) })).data!;
  // signed out (a stolen token outlives its session by up to an hour); the user signs in again elsewhere
  assert.equal((await raw(p, '/logout?scope=local', { method: 'POST', bearer: aal2.access_token })).status, 204);
  const again = client(p);
  assert.equal((await again.auth.signInWithPassword({ email, password: 'mfa-pass-1' })).error, null);

  const ended = (path: string, method: string) => raw(p, path, { method, bearer: aal2.access_token });
  for (const [path, method] of [[`/factors/${f.id}`, 'DELETE'], [`/factors/${f.id}/challenge`, 'POST'], ['/logout?scope=global', 'POST'], ['/user', 'GET']]) {
    const r = await ended(path, method);
    assert.equal(r.status, 403, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, 'session_not_found');
  }
  assert.equal((await client(p, p.serviceKey).auth.admin.mfa.listFactors({ userId: aal2.user.id })).data?.factors.length, 1, 'the factor stays');
  assert.equal((await again.auth.getUser()).error, null, 'the new session was not signed out');
});
