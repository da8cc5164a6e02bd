// TOTP multi-factor authentication: enroll (secret, otpauth URI, QR code), challenge, verify (raises the
// session to aal2 and adds `totp` to amr), unenroll. Removing a verified factor needs an aal2 session.
import type pg from 'pg';
import QRCode from 'qrcode';
import type { SecretBox } from '@basalt/crypto';
import { withTransaction } from '@basalt/db';
import type { AuthContext } from '../context.js';
import { factorsDb } from '../db/factors.js';
import { sessionsDb } from '../db/sessions.js';
import { authErrors } from '../errors.js';
import { loadCurrentUser } from './current-user.js';
import type { UserPrincipal } from './principal.js';
import { reissueSession, type SessionJson } from './tokens.js';
import { newTotpSecret, verifyTotp } from './totp.js';
import { isUuid } from './validate.js';

const CHALLENGE_TTL_S = 300;
/** GoTrue's MFA_FACTOR_EXPIRY_DURATION: an enrollment not verified by then is abandoned, and dropped at the next one. */
const FACTOR_EXPIRY_S = 300;
/** what a QR code (version 40, error correction M) holds of an ASCII URI */
const QR_MAX_BYTES = 2331;

/**
 * GoTrue's MFA_MAX_ENROLLED_FACTORS counts every factor, verified or not, so enrolling (which answers a secret and
 * a QR code and needs no code) cannot add rows without end. The user's row is locked so enrollments racing each
 * other count each other.
 */
async function addFactor(db: pg.PoolClient, userId: string, max: number, name: string | null, sealedSecret: string): Promise<string> {
  await factorsDb.lockUser(db, userId);
  await factorsDb.removeExpiredUnverified(db, userId, FACTOR_EXPIRY_S);
  if ((await factorsDb.count(db, userId)) >= max) throw authErrors.mfaTooManyFactors();
  try {
    return await factorsDb.create(db, userId, 'totp', name, sealedSecret);
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw authErrors.mfaNameConflict();
    throw e;
  }
}

export function mfa(secrets: SecretBox) {
  /** one of the caller's factors; the caller's session must be live, as for every signed-in route */
  async function factorOf(ctx: AuthContext, p: UserPrincipal, id: string) {
    await loadCurrentUser(ctx, p);
    if (!isUuid(id)) throw authErrors.mfaFactorNotFound();
    const f = await factorsDb.get(ctx.db, p.userId, id);
    if (!f) throw authErrors.mfaFactorNotFound();
    return f;
  }

  return {
    async enroll(ctx: AuthContext, p: UserPrincipal, body: Record<string, unknown>) {
      if (body.factor_type !== 'totp') throw authErrors.validation422('factor_type needs to be totp (phone and webauthn are not enabled)');
      const user = await loadCurrentUser(ctx, p);
      const name = typeof body.friendly_name === 'string' && body.friendly_name ? body.friendly_name.slice(0, 255) : null;
      const issuer = typeof body.issuer === 'string' && body.issuer ? body.issuer.slice(0, 255) : new URL(ctx.baseUrl).host;
      const secret = newTotpSecret();
      const account = user.email || user.phone || user.id;
      const uri = `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(account)}?secret=${secret}&issuer=${encodeURIComponent(issuer)}`;
      // checked before anything is stored: past this the QR code cannot be drawn and the factor would be left behind
      if (uri.length > QR_MAX_BYTES) throw authErrors.validation422('The issuer is too long for a QR code');
      const id = await withTransaction(ctx.db, (db) => addFactor(db, user.id, ctx.settings.mfa_max_enrolled_factors, name, secrets.encrypt(secret)));
      const qr = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
      return { id, type: 'totp', friendly_name: name ?? undefined, totp: { qr_code: qr, secret, uri } };
    },

    async challenge(ctx: AuthContext, p: UserPrincipal, factorId: string) {
      const f = await factorOf(ctx, p, factorId);
      const c = await factorsDb.challenge(ctx.db, f.id, ctx.ip);
      return { id: c.id, type: f.factor_type, expires_at: Math.floor(c.created_at.getTime() / 1000) + CHALLENGE_TTL_S };
    },

    async verify(ctx: AuthContext, p: UserPrincipal, factorId: string, body: Record<string, unknown>): Promise<SessionJson> {
      if (!p.sessionId) throw authErrors.sessionNotFound();
      const f = await factorOf(ctx, p, factorId);
      if (!isUuid(body.challenge_id)) throw authErrors.mfaChallengeNotFound();
      const code = typeof body.code === 'string' ? body.code.trim() : '';
      return withTransaction(ctx.db, async (db) => {
        const c = await factorsDb.takeChallenge(db, f.id, body.challenge_id as string);
        if (!c) throw authErrors.mfaChallengeNotFound();
        if (Date.now() - c.created_at.getTime() > CHALLENGE_TTL_S * 1000) throw authErrors.mfaChallengeExpired();
        if (!f.secret || !verifyTotp(secrets.decrypt(f.secret), code)) throw authErrors.mfaVerificationFailed();
        if (!(await sessionsDb.exists(db, p.sessionId!))) throw authErrors.sessionNotFound();
        await factorsDb.markVerified(db, f.id);
        await sessionsDb.setAal(db, p.sessionId!, 'aal2', f.id);
        await sessionsDb.addAmr(db, p.sessionId!, 'totp');
        return reissueSession(ctx, db, p.userId, p.sessionId!, 'aal2');
      });
    },

    async unenroll(ctx: AuthContext, p: UserPrincipal, factorId: string) {
      const f = await factorOf(ctx, p, factorId);
      if (f.status === 'verified' && p.aal !== 'aal2') throw authErrors.insufficientAal();
      await factorsDb.remove(ctx.db, p.userId, f.id);
      return { id: f.id };
    },
  };
}

export async function deleteFactorAsAdmin(ctx: AuthContext, userId: string, factorId: string) {
  if (!isUuid(userId) || !isUuid(factorId)) throw authErrors.mfaFactorNotFound();
  const f = await factorsDb.get(ctx.db, userId, factorId);
  if (!f) throw authErrors.mfaFactorNotFound();
  await factorsDb.remove(ctx.db, userId, factorId);
  return { id: f.id, friendly_name: f.friendly_name ?? undefined, factor_type: f.factor_type, status: f.status };
}
