// Sign-up and password sign-in. Neither reveals whether an address is registered: a second sign-up of a
// confirmed address (with confirmation on) answers a fake user with a fresh id, and a sign-in with an unknown
// address costs the same bcrypt work as a wrong password.
import { randomUUID } from 'node:crypto';
import { withTransaction } from '@basalt/db';
import type { AuthContext } from '../context.js';
import { identitiesDb } from '../db/identities.js';
import { usersDb, NOW, type UserRow } from '../db/users.js';
import { authErrors } from '../errors.js';
import { sendAuthMail } from './mailer.js';
import { checkPasswordStrength, type Passwords } from './password.js';
import { parseChallenge, startEmailFlow } from './pkce.js';
import { signInWithPhone, signUpWithPhone } from './phone.js';
import { issueSession, type SessionJson } from './tokens.js';
import { userJson, type UserJson } from './user-json.js';
import { parseEmail, parseMetadata } from './validate.js';

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

function fakeUser(email: string, data: Record<string, unknown>): UserJson {
  const now = new Date();
  return userJson({
    id: randomUUID(), aud: 'authenticated', role: 'authenticated', email, phone: null, encrypted_password: null,
    email_confirmed_at: null, phone_confirmed_at: null, phone_change: null, phone_change_sent_at: null, confirmed_at: null, confirmation_sent_at: now, recovery_sent_at: null,
    email_change: null, email_change_sent_at: null, reauthentication_sent_at: null, invited_at: null, last_sign_in_at: null,
    raw_app_meta_data: { provider: 'email', providers: ['email'] }, raw_user_meta_data: data, created_at: now, updated_at: now,
    banned_until: null, deleted_at: null, is_anonymous: false, identities: [], factors: [],
  } satisfies UserRow);
}

export async function signUp(ctx: AuthContext, pw: Passwords, body: Record<string, unknown>, redirectTo: string): Promise<SessionJson | UserJson> {
  const s = ctx.settings;
  if (s.disable_signup) throw authErrors.signupDisabled();
  if (body.email === undefined && body.phone === undefined) return signUpAnonymously(ctx, body);
  if (body.phone !== undefined && body.email === undefined) return signUpWithPhone(ctx, pw, body);
  if (!s.email_enabled) throw authErrors.emailProviderDisabled();
  const email = parseEmail(body.email);
  const password = checkPasswordStrength(body.password, s);
  const data = parseMetadata(body.data);
  const challenge = parseChallenge(body);

  const existing = await usersDb.byEmail(ctx.db, email);
  if (existing) return signUpExisting(ctx, existing, data, redirectTo);
  const hash = await pw.hash(password);
  try {
    return await withTransaction(ctx.db, async (db) => {
      const id = await usersDb.insert(db, {
        email, passwordHash: hash, emailConfirmed: !s.email_confirm_required,
        appMetadata: { provider: 'email', providers: ['email'] }, userMetadata: data,
      });
      await identitiesDb.upsert(db, id, 'email', id, { sub: id, email, email_verified: !s.email_confirm_required, phone_verified: false });
      if (!s.email_confirm_required) return issueSession(ctx, db, id, 'password');
      if (challenge) await startEmailFlow(db, id, 'signup', challenge, redirectTo);
      await sendAuthMail(ctx, db, { userId: id, type: 'signup', to: email, redirectTo, pkce: Boolean(challenge) });
      await usersDb.update(db, id, { confirmation_sent_at: NOW });
      return userJson((await usersDb.byId(db, id))!);
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    if (!s.email_confirm_required) throw authErrors.userAlreadyExists();
    return fakeUser(email, data);
  }
}

async function signUpExisting(ctx: AuthContext, user: UserRow, data: Record<string, unknown>, redirectTo: string): Promise<UserJson> {
  if (!ctx.settings.email_confirm_required) throw authErrors.userAlreadyExists();
  if (user.email_confirmed_at) return fakeUser(user.email!, data);
  // Still unconfirmed: send the confirmation again, as GoTrue does.
  await withTransaction(ctx.db, async (db) => {
    await sendAuthMail(ctx, db, { userId: user.id, type: 'signup', to: user.email!, redirectTo });
    await usersDb.update(db, user.id, { confirmation_sent_at: NOW });
  });
  return userJson((await usersDb.byId(ctx.db, user.id))!);
}

async function signUpAnonymously(ctx: AuthContext, body: Record<string, unknown>): Promise<SessionJson> {
  if (!ctx.settings.anonymous_users) throw authErrors.anonymousDisabled();
  const data = parseMetadata(body.data);
  return withTransaction(ctx.db, async (db) => {
    const id = await usersDb.insert(db, {
      email: null, passwordHash: null, emailConfirmed: false, isAnonymous: true,
      appMetadata: { provider: 'anonymous', providers: ['anonymous'] }, userMetadata: data,
    });
    return issueSession(ctx, db, id, 'anonymous');
  });
}

export async function signInWithPassword(ctx: AuthContext, pw: Passwords, body: Record<string, unknown>): Promise<SessionJson> {
  if (body.phone !== undefined && body.email === undefined) return signInWithPhone(ctx, pw, body);
  if (typeof body.password !== 'string' || typeof body.email !== 'string') throw authErrors.invalidCredentials();
  if (!ctx.settings.email_enabled) throw authErrors.emailProviderDisabled();
  const user = await usersDb.byEmail(ctx.db, body.email.trim());
  const ok = await pw.verify(body.password, user?.encrypted_password ?? null);
  if (!user || !ok) throw authErrors.invalidCredentials();
  if (user.banned_until && user.banned_until > new Date()) throw authErrors.userBanned();
  if (!user.email_confirmed_at && ctx.settings.email_confirm_required) throw authErrors.emailNotConfirmed();
  return withTransaction(ctx.db, (db) => issueSession(ctx, db, user.id, 'password'));
}
