// The admin API through supabase-js's auth.admin with the service_role key; anon and users get 403 not_admin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';
import { client, outbox, raw, uniqueEmail } from './helpers.js';

const p = await createProject('auth-admin');
const admin = client(p, p.serviceKey).auth.admin;

test('create (confirmed, with metadata), get, update, ban, delete; the user can sign in', async () => {
  const email = uniqueEmail('admin');
  const created = await admin.createUser({ email, password: 'admin-made-1', email_confirm: true, user_metadata: { name: 'Bo' }, app_metadata: { plan: 'gold' } });
  assert.equal(created.error, null);
  const u = created.data.user!;
  assert.equal(u.email, email);
  assert.ok(u.email_confirmed_at);
  assert.equal(u.app_metadata.plan, 'gold');
  assert.equal(u.app_metadata.provider, 'email');
  assert.deepEqual(u.user_metadata, { name: 'Bo' });
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'admin-made-1' })).error, null);
  const got = await admin.getUserById(u.id);
  assert.equal(got.data.user?.id, u.id);
  const dup = await admin.createUser({ email, password: 'admin-made-1' });
  assert.equal(dup.error?.status, 422);
  assert.equal(dup.error?.code, 'email_exists');
  const upd = await admin.updateUserById(u.id, { user_metadata: { age: 3 }, app_metadata: { plan: 'silver' }, password: 'changed-by-admin' });
  assert.equal(upd.error, null);
  assert.deepEqual(upd.data.user?.user_metadata, { name: 'Bo', age: 3 });
  assert.equal(upd.data.user?.app_metadata.plan, 'silver');
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'changed-by-admin' })).error, null);
  const ban = await admin.updateUserById(u.id, { ban_duration: '24h' });
  assert.ok(ban.data.user?.banned_until);
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'changed-by-admin' })).error?.code, 'user_banned');
  await admin.updateUserById(u.id, { ban_duration: 'none' });
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'changed-by-admin' })).error, null);
  const bad = await admin.updateUserById(u.id, { ban_duration: 'forever' });
  assert.equal(bad.error?.status, 400);
  assert.equal((await admin.deleteUser(u.id)).error, null);
  assert.equal((await admin.getUserById(u.id)).error?.status, 404);
  assert.equal((await p.sql(`select count(*)::int as n from auth.users where id = '${u.id}'`))[0].n, 0);
  assert.equal((await raw(p, '/admin/users/not-a-uuid', { bearer: p.serviceKey })).status, 404);
});

test('soft delete keeps the row but no way to sign in', async () => {
  const email = uniqueEmail('soft');
  const u = (await admin.createUser({ email, password: 'soft-pass-1', email_confirm: true })).data.user!;
  assert.equal((await admin.deleteUser(u.id, true)).error, null);
  const [row] = await p.sql(`select email, deleted_at from auth.users where id = '${u.id}'`);
  assert.equal(row.email, null);
  assert.ok(row.deleted_at);
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'soft-pass-1' })).error?.code, 'invalid_credentials');
});

test('list pages with X-Total-Count and a Link header auth-js can parse', async () => {
  for (let i = 0; i < 5; i++) await admin.createUser({ email: uniqueEmail('page'), password: 'page-pass-1' });
  const first = await admin.listUsers({ page: 1, perPage: 2 });
  assert.equal(first.error, null);
  assert.equal(first.data.users.length, 2);
  const total = (first.data as any).total;
  assert.ok(total >= 5);
  assert.equal((first.data as any).nextPage, 2);
  assert.equal((first.data as any).lastPage, Math.ceil(total / 2));
  const second = await admin.listUsers({ page: 2, perPage: 2 });
  assert.notEqual(second.data.users[0].id, first.data.users[0].id);
  const r = await raw(p, '/admin/users?page=1&per_page=2', { bearer: p.serviceKey });
  assert.match(r.headers.get('link') ?? '', /<[^>]*\/admin\/users\?page=2&per_page=2>; rel="next"/);
});

test('generate_link and invite; the links verify', async () => {
  const email = uniqueEmail('invitee');
  const inv = await admin.inviteUserByEmail(email, { data: { team: 'x' } });
  assert.equal(inv.error, null);
  assert.ok(inv.data.user?.invited_at);
  // The invitee follows the emailed link (dev outbox), lands signed in, and chooses a password.
  const mail = (await outbox(p, email)).find((m) => m.type === 'invite')!;
  const landed = await fetch(mail.action_link!, { redirect: 'manual' });
  const f = new URLSearchParams(new URL(landed.headers.get('location')!).hash.slice(1));
  assert.equal(f.get('type'), 'invite');
  const invitee = client(p);
  await invitee.auth.setSession({ access_token: f.get('access_token')!, refresh_token: f.get('refresh_token')! });
  assert.equal((await invitee.auth.updateUser({ password: 'invited-pass-1' })).error, null);
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'invited-pass-1' })).error, null);
  const link = await admin.generateLink({ type: 'magiclink', email: uniqueEmail('magic') });
  assert.equal(link.error, null);
  assert.match(link.data.properties!.action_link, /\/auth\/v1\/verify\?token=[0-9a-f]{56}&type=/);
  assert.equal(link.data.properties!.email_otp.length, 6);
  const v = await client(p).auth.verifyOtp({ token_hash: link.data.properties!.hashed_token, type: 'email' });
  assert.equal(v.error, null);
  assert.ok(v.data.session?.access_token);
  const rec = await admin.generateLink({ type: 'recovery', email: uniqueEmail('nobody') });
  assert.equal(rec.error?.status, 404);
});

test('not admin: the anon key and a user token get 403 not_admin', async () => {
  const s = (await client(p).auth.signUp({ email: uniqueEmail(), password: 'user-pass-1' })).data.session!;
  for (const bearer of [p.anonKey, s.access_token]) {
    const r = await raw(p, '/admin/users', { bearer });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'not_admin');
  }
  const inv = await raw(p, '/invite', { method: 'POST', json: { email: uniqueEmail() } });
  assert.equal(inv.status, 403);
  const other = await createProject('auth-admin-other');
  // Project B's service key cannot administer project A (rejected at the gateway's key check).
  const cross = await raw(p, '/admin/users', { bearer: other.serviceKey, headers: { apikey: other.serviceKey } });
  assert.equal(cross.status, 401);
  // With A's anon key as apikey the request reaches auth, which refuses B's token as GoTrue does: 403 bad_jwt.
  const cross2 = await raw(p, '/admin/users', { bearer: other.serviceKey });
  assert.equal(cross2.status, 403);
  assert.equal(cross2.body.code, 'bad_jwt');
});
