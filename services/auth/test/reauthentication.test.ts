// PUT /user with a password and the nonce from GET /reauthenticate: the nonce is spent only by the update it
// authorises, so a failed update leaves it usable and two updates racing with it cannot both pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';
import { client, outbox, raw, setAuthSettings, uniqueEmail } from './helpers.js';

const p = await createProject('auth-reauth');
await setAuthSettings(p, { update_password_require_reauthentication: true });

/** A signed-in user and a fresh reauthentication nonce. */
async function withNonce() {
  const sb = client(p);
  const email = uniqueEmail('reauth');
  const { data } = await sb.auth.signUp({ email, password: 'first-pass-1' });
  assert.equal((await sb.auth.reauthenticate()).error, null);
  const mail = (await outbox(p, email)).find((m) => m.type === 'reauthentication')!;
  return { sb, email, nonce: mail.otp!, accessToken: data.session!.access_token };
}

const signsIn = async (email: string, password: string) => (await client(p).auth.signInWithPassword({ email, password })).error === null;

test('a password change that fails after the nonce was checked leaves the nonce usable', async () => {
  const taken = uniqueEmail('taken');
  await client(p).auth.signUp({ email: taken, password: 'taken-pass-1' });
  const { sb, email, nonce } = await withNonce();
  // the address belongs to someone else: the update fails inside the transaction that took the nonce
  const failed = await sb.auth.updateUser({ password: 'second-pass-2', nonce, email: taken });
  assert.equal(failed.error?.code, 'email_exists');
  assert.equal(await signsIn(email, 'first-pass-1'), true, 'the password is unchanged');
  assert.equal((await sb.auth.updateUser({ password: 'second-pass-2', nonce })).error, null);
  assert.equal(await signsIn(email, 'second-pass-2'), true);
});

test('two password changes racing with one nonce: exactly one goes through', async () => {
  const { email, nonce, accessToken } = await withNonce();
  const put = (password: string) => raw(p, '/user', { method: 'PUT', bearer: accessToken, json: { password, nonce } });
  const [a, b] = await Promise.all([put('racing-pass-a'), put('racing-pass-b')]);
  const won = [a, b].filter((r) => r.status === 200);
  const lost = [a, b].filter((r) => r.status !== 200);
  assert.equal(won.length, 1, `${a.status} ${JSON.stringify(a.body)} / ${b.status} ${JSON.stringify(b.body)}`);
  assert.equal(lost[0]!.status, 400);
  assert.equal(lost[0]!.body.code, 'reauthentication_not_valid');
  const winner = won[0] === a ? 'racing-pass-a' : 'racing-pass-b';
  assert.equal(await signsIn(email, winner), true);
  assert.equal(await signsIn(email, winner === 'racing-pass-a' ? 'racing-pass-b' : 'racing-pass-a'), false);
});
