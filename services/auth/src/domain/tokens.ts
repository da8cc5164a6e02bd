// Sessions and tokens: HS256 access tokens with GoTrue's claims plus `ref`, opaque refresh tokens rotated on
// every use. Reuse of a rotated token outside the reuse interval ends the whole session (token family).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { hashToken } from '@basalt/crypto';
import { signJwt } from '@basalt/jwt';
import type { AuthContext } from '../context.js';
import { sessionsDb } from '../db/sessions.js';
import { usersDb, type UserRow } from '../db/users.js';
import { userJson } from './user-json.js';

export interface SessionJson {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: ReturnType<typeof userJson>;
  provider_token?: string;
  provider_refresh_token?: string;
  weak_password?: unknown;
}

// Each randomBytes call is a native job (about 12 µs on a slow core; a refresh needs two), so bytes are drawn
// from a pooled CSPRNG buffer, as crypto.randomUUID does. Every byte is handed out once; a spent pool is replaced,
// never refilled in place, so handed-out slices stay intact.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolUsed = 0;
function random(n: number): Buffer {
  if (poolUsed + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolUsed = 0;
  }
  poolUsed += n;
  return pool.subarray(poolUsed - n, poolUsed);
}

export const newRefreshToken = () => random(24).toString('base64url');

// The child token encrypted under a key only the parent token's holder can derive (see 0002_auth.sql).
const sealKey = (parent: string) => createHash('sha256').update(`basalt-refresh-seal:${parent}`).digest();
export function seal(child: string, parent: string): string {
  const iv = random(12);
  const c = createCipheriv('aes-256-gcm', sealKey(parent), iv);
  const ct = Buffer.concat([c.update(child, 'utf8'), c.final()]);
  return [iv, c.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.');
}
export function unseal(sealed: string, parent: string): string | null {
  try {
    const [iv, tag, ct] = sealed.split('.').map((s) => Buffer.from(s, 'base64url'));
    const d = createDecipheriv('aes-256-gcm', sealKey(parent), iv);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}

export function accessToken(ctx: AuthContext, user: UserRow, session: { id: string; aal: string }, amr: { method: string; timestamp: number }[]) {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ctx.settings.jwt_exp;
  const token = signJwt(
    {
      iss: ctx.authUrl,
      sub: user.id,
      aud: user.aud,
      exp,
      iat: now,
      email: user.email ?? '',
      phone: user.phone ?? '',
      app_metadata: user.raw_app_meta_data ?? {},
      user_metadata: user.raw_user_meta_data ?? {},
      role: user.role,
      aal: session.aal,
      amr,
      session_id: session.id,
      is_anonymous: user.is_anonymous,
      ref: ctx.project.ref,
    },
    ctx.project.jwtKey,
    // with a signing key in use, user tokens carry its kid and verify against the published JWKS
    { asymmetric: true },
  );
  return { token, exp };
}

export function sessionJson(ctx: AuthContext, user: UserRow, session: { id: string; aal: string }, amr: { method: string; timestamp: number }[], refresh: string): SessionJson {
  const { token, exp } = accessToken(ctx, user, session, amr);
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: ctx.settings.jwt_exp,
    expires_at: exp,
    refresh_token: refresh,
    user: userJson(user),
  };
}

/** A new session for a user who just proved who they are by `method` (password, otp, oauth, …). */
export async function issueSession(ctx: AuthContext, db: pg.PoolClient, userId: string, method: string): Promise<SessionJson> {
  const refresh = newRefreshToken();
  const s = await sessionsDb.start(db, { userId, ip: ctx.ip, userAgent: ctx.userAgent, method, refreshHash: hashToken(refresh) });
  const user = (await usersDb.byId(db, userId))!;
  return sessionJson(ctx, user, { id: s.id, aal: 'aal1' }, [{ method, timestamp: s.ts }], refresh);
}

/** New tokens for an existing session (after MFA verification raised its aal). */
export async function reissueSession(ctx: AuthContext, db: pg.PoolClient, userId: string, sessionId: string, aal: string): Promise<SessionJson> {
  const active = await sessionsDb.activeRefresh(db, sessionId);
  if (active) await sessionsDb.revokeRefresh(db, active.id);
  const refresh = newRefreshToken();
  await sessionsDb.insertRefresh(db, { hash: hashToken(refresh), userId, sessionId, parent: active?.token ?? null, sealed: null });
  const user = (await usersDb.byId(db, userId))!;
  return sessionJson(ctx, user, { id: sessionId, aal }, await sessionsDb.amr(db, sessionId), refresh);
}
