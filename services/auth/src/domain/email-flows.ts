// Flows that start with an email: recovery, OTP / magic link, resend, invite, and admin generate_link.
// Recovery and resend answer {} whether or not the address is known, so they reveal nothing.
import { withTransaction } from '@basalt/db';
import type pg from 'pg';
import type { AuthContext } from '../context.js';
import { identitiesDb } from '../db/identities.js';
import { onceMoreIfCreatedMeanwhile, usersDb, NOW, type UserRow } from '../db/users.js';
import { authErrors } from '../errors.js';
import { issueLink, sendAuthMail, type MailType } from './mailer.js';
import { checkPasswordStrength, type Passwords } from './password.js';
import { resendPhoneOtp, sendPhoneSignInOtp } from './phone.js';
import { parseChallenge, startEmailFlow } from './pkce.js';
import { userJson, type UserJson } from './user-json.js';
import { parseEmail, parseMetadata } from './validate.js';

const SENT_AT: Partial<Record<MailType, string>> = { signup: 'confirmation_sent_at', recovery: 'recovery_sent_at', magiclink: 'recovery_sent_at', invite: 'invited_at' };

async function send(ctx: AuthContext, db: pg.PoolClient, user: UserRow, type: MailType, redirectTo: string, body: Record<string, unknown>): Promise<void> {
  const challenge = parseChallenge(body);
  // PKCE links carry a pkce_ prefix; following one ends with ?code= instead of tokens in the fragment.
  if (challenge) await startEmailFlow(db, user.id, type, challenge, redirectTo);
  await sendAuthMail(ctx, db, { userId: user.id, type, to: user.email!, redirectTo, pkce: Boolean(challenge) });
  const col = SENT_AT[type];
  if (col) await usersDb.update(db, user.id, { [col]: NOW });
}

async function createEmailUser(db: pg.PoolClient, email: string, data: Record<string, unknown>, opts: { passwordHash?: string | null; invited?: boolean } = {}): Promise<UserRow> {
  const id = await usersDb.insert(db, {
    email, passwordHash: opts.passwordHash ?? null, emailConfirmed: false, invited: opts.invited,
    appMetadata: { provider: 'email', providers: ['email'] }, userMetadata: data,
  });
  await identitiesDb.upsert(db, id, 'email', id, { sub: id, email, email_verified: false, phone_verified: false });
  return (await usersDb.byId(db, id))!;
}

export async function recover(ctx: AuthContext, body: Record<string, unknown>, redirectTo: string): Promise<void> {
  const email = parseEmail(body.email);
  parseChallenge(body);
  const user = await usersDb.byEmail(ctx.db, email);
  if (!user) return;
  await withTransaction(ctx.db, (db) => send(ctx, db, user, 'recovery', redirectTo, body));
}

/**
 * POST /otp and /magiclink: a code and a link; new addresses get a sign-up confirmation unless create_user is
 * false. A phone gets a code by text and the answer carries its message id.
 */
export async function sendOtp(ctx: AuthContext, body: Record<string, unknown>, redirectTo: string): Promise<{ message_id?: string }> {
  if (body.phone !== undefined && body.email === undefined) return sendPhoneSignInOtp(ctx, body);
  if (!ctx.settings.email_enabled) throw authErrors.emailProviderDisabled();
  const email = parseEmail(body.email);
  const data = parseMetadata(body.data);
  parseChallenge(body);
  await onceMoreIfCreatedMeanwhile(async () => {
    const existing = await usersDb.byEmail(ctx.db, email);
    if (!existing && (body.create_user === false || ctx.settings.disable_signup)) throw authErrors.otpDisabled();
    await withTransaction(ctx.db, async (db) => {
      const user = existing ?? (await createEmailUser(db, email, data));
      await send(ctx, db, user, user.email_confirmed_at ? 'magiclink' : 'signup', redirectTo, body);
    });
  });
  return {};
}

export async function resend(ctx: AuthContext, body: Record<string, unknown>, redirectTo: string): Promise<{ message_id?: string }> {
  const type = body.type;
  if (type === 'sms' || type === 'phone_change') return resendPhoneOtp(ctx, type, body);
  if (type !== 'signup' && type !== 'email_change') throw authErrors.validation('Missing one of these types: signup, email_change, sms, phone_change');
  const email = parseEmail(body.email);
  await withTransaction(ctx.db, async (db) => {
    if (type === 'signup') {
      const user = await usersDb.byEmail(db, email);
      if (user && !user.email_confirmed_at) await send(ctx, db, user, 'signup', redirectTo, body);
    } else {
      const user = await usersDb.byEmailChange(db, email);
      if (user?.email_change) {
        await sendAuthMail(ctx, db, { userId: user.id, type: 'email_change', to: user.email_change, redirectTo, newEmail: user.email_change });
        await usersDb.update(db, user.id, { email_change_sent_at: NOW });
      }
    }
  });
  return {};
}

export async function invite(ctx: AuthContext, body: Record<string, unknown>, redirectTo: string): Promise<UserJson> {
  const email = parseEmail(body.email);
  const data = parseMetadata(body.data);
  const id = await onceMoreIfCreatedMeanwhile(() => withTransaction(ctx.db, async (db) => {
    const existing = await usersDb.byEmail(db, email);
    if (existing?.email_confirmed_at) throw authErrors.emailExists();
    const user = existing ?? (await createEmailUser(db, email, data, { invited: true }));
    await send(ctx, db, user, 'invite', redirectTo, {});
    return user.id;
  }));
  return userJson((await usersDb.byId(ctx.db, id))!);
}

const LINK_TYPES = ['signup', 'invite', 'magiclink', 'recovery', 'email_change_current', 'email_change_new'] as const;

/** Creates what the email would carry, without sending it; auth-js splits the answer into {properties, user}. */
export async function generateLink(ctx: AuthContext, pw: Passwords, body: Record<string, unknown>, redirectTo: string) {
  const type = body.type as (typeof LINK_TYPES)[number];
  if (!LINK_TYPES.includes(type)) throw authErrors.validation('Invalid type: must be one of ' + LINK_TYPES.join(', '));
  const email = parseEmail(body.email);
  const data = parseMetadata(body.data);
  const hash = type === 'signup' && body.password !== undefined ? await pw.hash(checkPasswordStrength(body.password, ctx.settings)) : null;
  const newEmail = type.startsWith('email_change') ? parseEmail(body.new_email) : null;
  // two first links for one new address race to create its user: the loser finds the winner's (as invite does)
  const { id, issued, verification } = await onceMoreIfCreatedMeanwhile(() => withTransaction(ctx.db, async (db) => {
    let user = await usersDb.byEmail(db, email);
    if (type === 'signup' && user?.email_confirmed_at) throw authErrors.emailExists();
    if (type === 'invite' && user?.email_confirmed_at) throw authErrors.emailExists();
    if (!user && (type === 'recovery' || type.startsWith('email_change'))) throw authErrors.userNotFound();
    if (!user) user = await createEmailUser(db, email, data, { passwordHash: hash, invited: type === 'invite' });
    let mailType: MailType = type === 'magiclink' && !user.email_confirmed_at ? 'signup' : (type as MailType);
    let to = email;
    if (newEmail) {
      if (await usersDb.byEmail(db, newEmail)) throw authErrors.emailExists();
      await usersDb.update(db, user.id, { email_change: newEmail, email_change_sent_at: NOW });
      mailType = 'email_change';
      to = newEmail;
    }
    return { id: user.id, issued: await issueLink(ctx, db, user.id, mailType, to, redirectTo), verification: mailType };
  }));
  const user = userJson((await usersDb.byId(ctx.db, id))!);
  return { ...user, action_link: issued.actionLink, email_otp: issued.otp, hashed_token: issued.hashedToken, verification_type: verification, redirect_to: redirectTo };
}
