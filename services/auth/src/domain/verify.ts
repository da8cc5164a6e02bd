// POST /verify and GET /verify: a code (with the address) or a link's token_hash proves the address.
// Tokens are single-use (taken, i.e. deleted, on the first attempt that finds them) and expire after otp_exp.
import { withTransaction } from '@basalt/db';
import type { AuthContext } from '../context.js';
import { pendingEmailFlow } from '../db/flow-state.js';
import { identitiesDb } from '../db/identities.js';
import { oneTimeTokensDb } from '../db/one-time-tokens.js';
import { usersDb, NOW } from '../db/users.js';
import { authErrors } from '../errors.js';
import { applyEmail } from './current-user.js';
import { tokenHash } from './mailer.js';
import { verifyPhone } from './phone.js';
import { issueAuthCode } from './pkce.js';
import { issueSession, type SessionJson } from './tokens.js';
import { parseEmail } from './validate.js';

const ACCEPTS: Record<string, string[]> = {
  signup: ['confirmation_token'],
  invite: ['invite_token'],
  magiclink: ['magiclink_token', 'confirmation_token'],
  recovery: ['recovery_token'],
  email_change: ['email_change_token_new'],
  email: ['confirmation_token', 'magiclink_token', 'invite_token'],
};
const AMR: Record<string, string> = { signup: 'otp', invite: 'invite', magiclink: 'magiclink', recovery: 'recovery', email_change: 'email_change', email: 'otp' };

const MISS = Symbol('no such code');
const MAX_FAILURES = 5;

export type VerifyResult = { session: SessionJson; type: string } | { code: string; redirectTo: string | null; type: string };

export interface VerifyInput {
  type: unknown;
  token?: unknown;
  tokenHash?: unknown;
  email?: unknown;
  phone?: unknown;
}

/** The address or number a verification is about (the rate limit's per-recipient key). */
export function verifyEmailOf(input: VerifyInput): string | null {
  return typeof input.email === 'string' ? input.email : typeof input.phone === 'string' ? input.phone : null;
}

export async function verify(ctx: AuthContext, input: VerifyInput): Promise<VerifyResult> {
  const type = input.type;
  if (type === 'sms' || (type === 'phone_change' && input.phone !== undefined)) {
    return { session: await verifyPhone(ctx, type, input.phone, input.token), type };
  }
  // own keys only: a type named like an Object.prototype member ("constructor") is no type
  if (typeof type !== 'string' || !Object.hasOwn(ACCEPTS, type)) throw authErrors.validation('Verify requires a verification type');
  let hash: string;
  let pkce = false;
  if (typeof input.tokenHash === 'string' && input.tokenHash) {
    if (input.email !== undefined) throw authErrors.validation('Only the token_hash and type should be provided');
    pkce = input.tokenHash.startsWith('pkce_');
    hash = pkce ? input.tokenHash.slice(5) : input.tokenHash;
  } else {
    if (typeof input.token !== 'string' || !input.token) throw authErrors.validation('Verify requires a token or a token hash');
    hash = tokenHash(parseEmail(input.email), input.token.trim());
  }
  if (!/^[0-9a-f]{56}$/.test(hash)) throw authErrors.otpExpired();
  const email = typeof input.email === 'string' ? input.email.trim().toLowerCase() : null;
  return withTransaction(ctx.db, async (db) => {
    const t = await oneTimeTokensDb.take(db, hash, ACCEPTS[type]);
    if (!t && email) throw MISS;
    if (!t || Date.now() - t.created_at.getTime() > ctx.settings.otp_exp * 1000) throw authErrors.otpExpired();
    const user = await usersDb.byId(db, t.user_id);
    if (!user || user.deleted_at) throw authErrors.otpExpired();
    if (user.banned_until && user.banned_until > new Date()) throw authErrors.userBanned();
    if (t.token_type === 'email_change_token_new') {
      if (!user.email_change || user.email_change.toLowerCase() !== t.relates_to) throw authErrors.otpExpired();
      if (await usersDb.byEmail(db, user.email_change).then((u) => u && u.id !== user.id)) throw authErrors.emailExists();
      await applyEmail(db, user, user.email_change);
    } else if (!user.email_confirmed_at) {
      await usersDb.update(db, user.id, { email_confirmed_at: NOW });
      await identitiesDb.markEmailVerified(db, user.id);
    }
    if (pkce) {
      const flow = await pendingEmailFlow(db, user.id);
      if (!flow) throw authErrors.flowStateNotFound();
      return { code: await issueAuthCode(db, flow.id, user.id), redirectTo: flow.redirect_to, type };
    }
    return { session: await issueSession(ctx, db, user.id, AMR[type]), type };
  }).catch(async (e) => {
    if (e !== MISS) throw e;
    // A wrong code counts against the live codes of that address; after MAX_FAILURES they stop working,
    // so guessing 6 digits needs more than the rate limit alone.
    await oneTimeTokensDb.recordFailure(ctx.db, email!, ACCEPTS[type], MAX_FAILURES);
    throw authErrors.otpExpired();
  });
}

/** The fragment GoTrue appends to redirect_to after a followed link. */
export function sessionFragment(s: SessionJson, type: string): string {
  const q = new URLSearchParams({
    access_token: s.access_token, expires_at: String(s.expires_at), expires_in: String(s.expires_in),
    refresh_token: s.refresh_token, token_type: 'bearer', type,
  });
  if (s.provider_token) q.set('provider_token', s.provider_token);
  if (s.provider_refresh_token) q.set('provider_refresh_token', s.provider_refresh_token);
  return `${q}&sb=`;
}

export function errorFragment(error: string, code: string, description: string): string {
  return `${new URLSearchParams({ error, error_code: code, error_description: description })}&sb=`;
}
