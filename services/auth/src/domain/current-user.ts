// The signed-in user's own endpoints: GET /user, PUT /user, POST /logout, GET /reauthenticate.
// Changing the password ends every other session of the user (GoTrue PR #806).
import { withTransaction, type PoolClient } from '@basalt/db';
import type { AuthContext } from '../context.js';
import { currentUser } from '../db/current-users.js';
import { identitiesDb } from '../db/identities.js';
import { oneTimeTokensDb, type OneTimeTokenRow } from '../db/one-time-tokens.js';
import { sessionsDb } from '../db/sessions.js';
import { usersDb, NOW, type UserRow } from '../db/users.js';
import { authErrors } from '../errors.js';
import { sendAuthMail, tokenHash } from './mailer.js';
import { checkPasswordStrength, type Passwords } from './password.js';
import { changePhone, sendPhoneOtp } from './phone.js';
import { parseChallenge, startEmailFlow } from './pkce.js';
import type { UserPrincipal } from './principal.js';
import { userJson, type UserJson } from './user-json.js';
import { METADATA_MAX_CHARS, metadataTooLarge, parseEmail, parseMetadata } from './validate.js';

export async function loadCurrentUser(ctx: AuthContext, p: UserPrincipal): Promise<UserRow> {
  const user = await currentUser(ctx.db, p.userId, p.sessionId);
  if (!user || user.deleted_at) throw authErrors.userNotFound();
  if (p.sessionId && !user.session_ok) throw authErrors.sessionNotFound();
  return user;
}

export async function getUser(ctx: AuthContext, p: UserPrincipal): Promise<UserJson> {
  return userJson(await loadCurrentUser(ctx, p));
}

/** The new address becomes the user's own, confirmed (anonymous users become permanent here). */
export async function applyEmail(db: Parameters<typeof usersDb.update>[0], user: UserRow, email: string): Promise<void> {
  const providers = new Set<string>((user.raw_app_meta_data.providers as string[] | undefined) ?? []);
  providers.delete('anonymous');
  providers.add('email');
  await usersDb.update(db, user.id, {
    email, email_confirmed_at: NOW, email_change: null, email_change_sent_at: null, is_anonymous: false,
    raw_app_meta_data: { ...user.raw_app_meta_data, provider: user.is_anonymous ? 'email' : user.raw_app_meta_data.provider ?? 'email', providers: [...providers] },
  });
  const hasEmailIdentity = user.identities.some((i) => i.provider === 'email');
  if (hasEmailIdentity) await identitiesDb.setEmail(db, user.id, email);
  else await identitiesDb.upsert(db, user.id, 'email', user.id, { sub: user.id, email, email_verified: true, phone_verified: false });
}

/**
 * Taken in the transaction that changes the password: an update that fails gives the nonce back, and of two
 * updates with one nonce the second waits on its row lock and then finds it gone.
 */
async function takeReauthNonce(ctx: AuthContext, db: PoolClient, userId: string, hash: string): Promise<void> {
  checkReauthNonce(ctx, await oneTimeTokensDb.take(db, hash, ['reauthentication_token']), userId, hash);
}

function checkReauthNonce(ctx: AuthContext, t: OneTimeTokenRow | null, userId: string, hash: string): void {
  if (!t || t.token_hash !== hash || t.user_id !== userId || Date.now() - t.created_at.getTime() > ctx.settings.otp_exp * 1000) throw authErrors.reauthInvalid();
}

export async function updateUser(ctx: AuthContext, pw: Passwords, p: UserPrincipal, body: Record<string, unknown>, redirectTo: string): Promise<UserJson> {
  const user = await loadCurrentUser(ctx, p);
  const data = body.data !== undefined ? parseMetadata(body.data) : null;
  const email = body.email !== undefined && body.email !== '' ? parseEmail(body.email) : null;
  let newHash: string | null = null;
  let nonceHash: string | null = null;
  if (body.password !== undefined) {
    const password = checkPasswordStrength(body.password, ctx.settings);
    if (user.factors.some((f) => f.status === 'verified') && p.aal !== 'aal2') throw authErrors.insufficientAal();
    if (user.encrypted_password && (await pw.verify(password, user.encrypted_password))) throw authErrors.samePassword();
    if (ctx.settings.update_password_require_reauthentication) {
      const to = user.email ?? user.phone;
      if (typeof body.nonce !== 'string' || !to) throw authErrors.reauthNeeded();
      nonceHash = tokenHash(to, body.nonce);
      // looked at before the password is hashed, so a wrong nonce costs no bcrypt; taken in the transaction below
      checkReauthNonce(ctx, await oneTimeTokensDb.forUser(ctx.db, user.id, 'reauthentication_token'), user.id, nonceHash);
    }
    newHash = await pw.hash(password);
  }
  await withTransaction(ctx.db, async (db) => {
    if (nonceHash) await takeReauthNonce(ctx, db, user.id, nonceHash);
    // each update is bounded, and so is what updates add up to
    if (data && !(await usersDb.mergeMetadata(db, user.id, 'raw_user_meta_data', data, METADATA_MAX_CHARS))) throw metadataTooLarge('data');
    if (newHash) {
      await usersDb.update(db, user.id, { encrypted_password: newHash });
      await sessionsDb.removeForUser(db, user.id, p.sessionId);
    }
    if (body.phone !== undefined && body.phone !== '') await changePhone(ctx, db, user, body.phone);
    if (email && email !== user.email?.toLowerCase()) {
      const taken = await usersDb.byEmail(db, email);
      if (taken && taken.id !== user.id) throw authErrors.emailExists();
      if (!ctx.settings.email_confirm_required) await applyEmail(db, user, email);
      else {
        const challenge = parseChallenge(body);
        if (challenge) await startEmailFlow(db, user.id, 'email_change', challenge, redirectTo);
        await sendAuthMail(ctx, db, { userId: user.id, type: 'email_change', to: email, redirectTo, newEmail: email, pkce: Boolean(challenge) });
        await usersDb.update(db, user.id, { email_change: email, email_change_sent_at: NOW });
      }
    }
  });
  return userJson((await usersDb.byId(ctx.db, user.id))!);
}

export async function logout(ctx: AuthContext, p: UserPrincipal, scope: unknown): Promise<void> {
  const s = scope === undefined ? 'global' : scope;
  if (s !== 'global' && s !== 'local' && s !== 'others') throw authErrors.badScope();
  if (!p.sessionId) throw authErrors.sessionNotFound();
  // only a live session signs out (GoTrue's requireAuthentication): an ended one's access token, good for up to an
  // hour, would otherwise end every session its user opened since
  await loadCurrentUser(ctx, p);
  if (s === 'local') await sessionsDb.remove(ctx.db, p.sessionId);
  else await sessionsDb.removeForUser(ctx.db, p.userId, s === 'others' ? p.sessionId : null);
}

/** Sends a nonce to the user's address; PUT /user {password, nonce} then proves a recent sign-in. */
export async function reauthenticate(ctx: AuthContext, p: UserPrincipal): Promise<void> {
  const user = await loadCurrentUser(ctx, p);
  if (!user.email && !user.phone) throw authErrors.reauthNoContact();
  // GoTrue prefers the email when the account has both
  if (!user.email) {
    if (!ctx.settings.phone_enabled) throw authErrors.phoneProviderDisabled();
    if (!user.phone_confirmed_at) throw authErrors.reauthPhoneNotConfirmed();
    await withTransaction(ctx.db, (db) => sendPhoneOtp(ctx, db, user, user.phone!, 'reauthentication'));
    return;
  }
  if (!user.email_confirmed_at) throw authErrors.reauthEmailNotConfirmed();
  await withTransaction(ctx.db, async (db) => {
    await sendAuthMail(ctx, db, { userId: user.id, type: 'reauthentication', to: user.email!, redirectTo: ctx.baseUrl });
    await usersDb.update(db, user.id, { reauthentication_sent_at: NOW });
  });
}
