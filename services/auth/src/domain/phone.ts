// Phone auth as GoTrue has it: sign-up and password sign-in with a number, SMS codes (POST /otp, /verify type
// sms), a number change confirmed by a code sent to the new number (type phone_change), resend, and codes for
// reauthentication. Numbers are E.164 digits stored without the "+"; a code's hash is SHA-224 of the number
// followed by the code; at most one text per number and purpose every sms_max_frequency seconds. Texts go
// through the project's SMS provider, or to the dev outbox when it has none.
import { randomUUID } from 'node:crypto';
import { withTransaction } from '@basalt/db';
import { EgressError } from '@basalt/egress';
import type pg from 'pg';
import { SmsError, sendSms } from '../clients/sms.js';
import type { AuthContext } from '../context.js';
import { identitiesDb } from '../db/identities.js';
import { oneTimeTokensDb } from '../db/one-time-tokens.js';
import { outboxDb } from '../db/outbox.js';
import { onceMoreIfCreatedMeanwhile, usersDb, NOW, type UserRow } from '../db/users.js';
import { authErrors } from '../errors.js';
import { newOtp, tokenHash } from './mailer.js';
import { checkPasswordStrength, type Passwords } from './password.js';
import { issueSession, type SessionJson } from './tokens.js';
import { userJson, type UserJson } from './user-json.js';
import { parseMetadata } from './validate.js';

const E164 = /^[1-9][0-9]{1,14}$/;

/** GoTrue's formatPhoneNumber: a leading + and spaces dropped (a password sign-in looks the number up so, unchecked). */
const formatPhone = (value: unknown) => (typeof value === 'string' ? value.replace(/^\+/, '').replaceAll(' ', '') : '');

/** GoTrue's validatePhone: formatted, then E.164 checked. */
export function parsePhone(value: unknown): string {
  const phone = formatPhone(value);
  if (!E164.test(phone)) throw authErrors.badPhone();
  return phone;
}

/** The number a request texts (a phone and no email), formatted, for the per-number limit; null otherwise. */
export const textedNumber = (body: Record<string, unknown>): string | null =>
  typeof body.phone === 'string' && body.email === undefined ? formatPhone(body.phone) : null;

export type PhoneOtpKind = 'confirmation' | 'phone_change' | 'reauthentication';

const KIND: Record<PhoneOtpKind, { token: string; sentAt: 'confirmation_sent_at' | 'phone_change_sent_at' | 'reauthentication_sent_at'; outbox: string }> = {
  confirmation: { token: 'confirmation_token', sentAt: 'confirmation_sent_at', outbox: 'sms' },
  phone_change: { token: 'phone_change_token', sentAt: 'phone_change_sent_at', outbox: 'phone_change' },
  reauthentication: { token: 'reauthentication_token', sentAt: 'reauthentication_sent_at', outbox: 'reauthentication' },
};

function requirePhone(ctx: AuthContext): void {
  if (!ctx.settings.phone_enabled) throw authErrors.phoneProviderDisabled();
}

/** Texts a new code of `kind` to `phone` and records its hash; answers the provider's message id. */
export async function sendPhoneOtp(ctx: AuthContext, db: pg.PoolClient, user: UserRow, phone: string, kind: PhoneOtpKind): Promise<string> {
  const k = KIND[kind];
  const s = ctx.settings;
  const sentAt = kind === 'phone_change' ? user.phone_change_sent_at : kind === 'confirmation' ? user.confirmation_sent_at : user.reauthentication_sent_at;
  if (sentAt && s.sms_max_frequency > 0) {
    const left = Math.ceil((sentAt.getTime() + s.sms_max_frequency * 1000 - Date.now()) / 1000);
    if (left > 0) throw authErrors.smsFrequency(left);
  }
  const otp = newOtp(s.sms_otp_length);
  const message = (s.sms?.template ?? 'Your code is {{ .Code }}').replace(/\{\{\s*\.Code\s*\}\}/g, otp);
  let messageId: string;
  if (s.sms) {
    try {
      messageId = await sendSms(s.sms, phone, message, ctx.egress);
    } catch (e) {
      if (e instanceof EgressError) throw authErrors.egressBlocked('Error sending SMS: the project\'s SMS provider is not reachable', e);
      throw authErrors.smsSendFailed(kind, e instanceof SmsError ? e.message : (e as Error).message);
    }
  } else {
    messageId = randomUUID();
    await outboxDb.add(db, { to: phone, type: k.outbox, subject: '', html: message, actionLink: null, otp });
  }
  await oneTimeTokensDb.put(db, user.id, k.token, tokenHash(phone, otp), phone);
  await usersDb.update(db, user.id, { [k.sentAt]: NOW, ...(kind === 'phone_change' ? { phone_change: phone } : {}) });
  return messageId;
}

function phoneAppMetadata(user: UserRow | null) {
  const providers = new Set<string>((user?.raw_app_meta_data.providers as string[] | undefined) ?? []);
  providers.delete('anonymous');
  providers.add('phone');
  return { ...(user?.raw_app_meta_data ?? {}), provider: (user && !user.is_anonymous && user.raw_app_meta_data.provider) || 'phone', providers: [...providers] };
}

async function createPhoneUser(db: pg.PoolClient, phone: string, data: Record<string, unknown>, o: { passwordHash: string | null; confirmed: boolean }): Promise<UserRow> {
  const id = await usersDb.insert(db, {
    email: null, phone, passwordHash: o.passwordHash, emailConfirmed: false, phoneConfirmed: o.confirmed,
    appMetadata: { provider: 'phone', providers: ['phone'] }, userMetadata: data,
  });
  await identitiesDb.upsert(db, id, 'phone', id, { sub: id, phone, email_verified: false, phone_verified: o.confirmed });
  return (await usersDb.byId(db, id))!;
}

/** The number becomes the user's own, confirmed; the phone identity follows it. */
async function applyPhone(db: pg.PoolClient, user: UserRow, phone: string): Promise<void> {
  await usersDb.update(db, user.id, { phone, phone_confirmed_at: NOW, phone_change: '', phone_change_sent_at: null, is_anonymous: false, raw_app_meta_data: phoneAppMetadata(user) });
  await identitiesDb.upsert(db, user.id, 'phone', user.id, { sub: user.id, phone, email_verified: Boolean(user.email_confirmed_at), phone_verified: true });
}

/** POST /signup {phone, password}: a session when numbers need no confirmation, otherwise the user and a code. */
export async function signUpWithPhone(ctx: AuthContext, pw: Passwords, body: Record<string, unknown>): Promise<SessionJson | UserJson> {
  requirePhone(ctx);
  const phone = parsePhone(body.phone);
  const password = checkPasswordStrength(body.password, ctx.settings);
  const data = parseMetadata(body.data);
  const confirm = ctx.settings.phone_confirm_required;
  const existing = await usersDb.byPhone(ctx.db, phone);
  if (existing && (existing.phone_confirmed_at || !confirm)) throw authErrors.userAlreadyExists();
  const hash = await pw.hash(password);
  return withTransaction(ctx.db, async (db) => {
    let user = existing;
    if (user) await usersDb.update(db, user.id, { encrypted_password: hash });
    else user = await createPhoneUser(db, phone, data, { passwordHash: hash, confirmed: !confirm });
    if (!confirm) return issueSession(ctx, db, user.id, 'password');
    await sendPhoneOtp(ctx, db, user, phone, 'confirmation');
    return userJson((await usersDb.byId(db, user.id))!);
  }).catch((e) => {
    if ((e as { code?: string }).code === '23505') throw authErrors.userAlreadyExists();
    throw e;
  });
}

/** grant_type=password with a phone. */
export async function signInWithPhone(ctx: AuthContext, pw: Passwords, body: Record<string, unknown>): Promise<SessionJson> {
  requirePhone(ctx);
  if (typeof body.password !== 'string') throw authErrors.invalidCredentials();
  const user = await usersDb.byPhone(ctx.db, formatPhone(body.phone));
  const ok = await pw.verify(body.password, user?.encrypted_password ?? null);
  if (!user || !ok) throw authErrors.invalidCredentials();
  if (user.banned_until && user.banned_until > new Date()) throw authErrors.userBanned();
  if (!user.phone_confirmed_at && ctx.settings.phone_confirm_required) throw authErrors.phoneNotConfirmed();
  return withTransaction(ctx.db, (db) => issueSession(ctx, db, user.id, 'password'));
}

/** POST /otp {phone}: a code by text; a new number gets a user unless create_user is false. */
export async function sendPhoneSignInOtp(ctx: AuthContext, body: Record<string, unknown>): Promise<{ message_id: string }> {
  requirePhone(ctx);
  const phone = parsePhone(body.phone);
  const data = parseMetadata(body.data);
  return onceMoreIfCreatedMeanwhile(async () => {
    const existing = await usersDb.byPhone(ctx.db, phone);
    if (!existing && (body.create_user === false || ctx.settings.disable_signup)) throw authErrors.otpDisabled();
    return withTransaction(ctx.db, async (db) => {
      const user = existing ?? (await createPhoneUser(db, phone, data, { passwordHash: null, confirmed: false }));
      return { message_id: await sendPhoneOtp(ctx, db, user, phone, 'confirmation') };
    });
  });
}

/** POST /resend {type: sms | phone_change, phone}: answers the same whether or not the number is known. */
export async function resendPhoneOtp(ctx: AuthContext, type: 'sms' | 'phone_change', body: Record<string, unknown>): Promise<{ message_id?: string }> {
  requirePhone(ctx);
  const phone = parsePhone(body.phone);
  return withTransaction(ctx.db, async (db) => {
    if (type === 'sms') {
      const user = await usersDb.byPhone(db, phone);
      if (!user || user.phone_confirmed_at) return {};
      return { message_id: await sendPhoneOtp(ctx, db, user, phone, 'confirmation') };
    }
    const user = await usersDb.byPhoneChange(db, phone);
    if (!user) return {};
    return { message_id: await sendPhoneOtp(ctx, db, user, phone, 'phone_change') };
  });
}

const MAX_FAILURES = 5;

/** POST /verify {type: sms | phone_change, phone, token}: the code proves the number; answers a session. */
export async function verifyPhone(ctx: AuthContext, type: 'sms' | 'phone_change', phoneRaw: unknown, token: unknown): Promise<SessionJson> {
  requirePhone(ctx);
  const phone = parsePhone(phoneRaw);
  if (typeof token !== 'string' || !token.trim()) throw authErrors.validation('Verify requires a token or a token hash');
  const types = [type === 'sms' ? 'confirmation_token' : 'phone_change_token'];
  const miss = Symbol('no such code');
  return withTransaction(ctx.db, async (db) => {
    const t = await oneTimeTokensDb.take(db, tokenHash(phone, token.trim()), types);
    if (!t) throw miss;
    if (Date.now() - t.created_at.getTime() > ctx.settings.sms_otp_exp * 1000) throw authErrors.otpExpired();
    const user = await usersDb.byId(db, t.user_id);
    if (!user || user.deleted_at || t.relates_to !== phone) throw authErrors.otpExpired();
    if (user.banned_until && user.banned_until > new Date()) throw authErrors.userBanned();
    if (type === 'phone_change') {
      if (user.phone_change !== phone) throw authErrors.otpExpired();
      const taken = await usersDb.byPhone(db, phone);
      if (taken && taken.id !== user.id) throw authErrors.phoneExists();
      await applyPhone(db, user, phone);
    } else if (!user.phone_confirmed_at) {
      await usersDb.update(db, user.id, { phone_confirmed_at: NOW });
      await identitiesDb.upsert(db, user.id, 'phone', user.id, { sub: user.id, phone, email_verified: Boolean(user.email_confirmed_at), phone_verified: true });
    }
    return issueSession(ctx, db, user.id, 'otp');
  }).catch(async (e) => {
    if (e !== miss) throw e;
    await oneTimeTokensDb.recordFailure(ctx.db, phone, types, MAX_FAILURES);
    throw authErrors.otpExpired();
  });
}

/** PUT /user {phone}: set at once when numbers need no confirmation, else a code to the new number. */
export async function changePhone(ctx: AuthContext, db: pg.PoolClient, user: UserRow, phoneRaw: unknown): Promise<void> {
  requirePhone(ctx);
  const phone = parsePhone(phoneRaw);
  if (phone === user.phone) return;
  const taken = await usersDb.byPhone(db, phone);
  if (taken && taken.id !== user.id) throw authErrors.phoneExists();
  if (!ctx.settings.phone_confirm_required) await applyPhone(db, user, phone);
  else await sendPhoneOtp(ctx, db, user, phone, 'phone_change');
}
