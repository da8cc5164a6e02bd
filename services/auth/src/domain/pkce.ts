// PKCE (RFC 7636): a flow started with code_challenge ends with ?code=<auth code> on the redirect, which only
// the holder of the code_verifier can exchange at POST /token?grant_type=pkce.
import { createHash, randomUUID } from 'node:crypto';
import { withTransaction } from '@basalt/db';
import type pg from 'pg';
import type { AuthContext } from '../context.js';
import { flowStateDb, type FlowLifetimes } from '../db/flow-state.js';
import { authErrors } from '../errors.js';
import { issueSession, type SessionJson } from './tokens.js';

/**
 * A code is exchanged within GoTrue's FLOW_STATE_EXPIRY_DURATION (5 minutes) of its issue; an OAuth flow gets 10
 * minutes at the provider; an email flow lives as long as the longest email link (otp_exp is at most a day).
 */
export const FLOW_LIFETIMES: FlowLifetimes = { oauthMs: 10 * 60_000, codeMs: 5 * 60_000, emailMs: 24 * 3600_000 };

export interface Challenge {
  codeChallenge: string;
  method: 's256' | 'plain';
}

/** null when the request is not a PKCE one; a half-given challenge is a 400. */
export function parseChallenge(body: Record<string, unknown>): Challenge | null {
  const c = body.code_challenge;
  const m = body.code_challenge_method;
  const absent = (v: unknown) => v === undefined || v === null || v === '';
  if (absent(c) && absent(m)) return null;
  if (typeof c !== 'string' || !/^[A-Za-z0-9._~-]{43,128}$/.test(c)) throw authErrors.validation('code challenge has to be between 43 and 128 characters');
  const method = typeof m === 'string' ? m.toLowerCase() : '';
  if (method !== 's256' && method !== 'plain') throw authErrors.validation('code challenge method not supported');
  return { codeChallenge: c, method };
}

/** For email flows: the user is known now, the code is issued when the link is followed. */
export async function startEmailFlow(db: pg.PoolClient | pg.Pool, userId: string, method: string, ch: Challenge, redirectTo: string): Promise<string> {
  return flowStateDb.create(db, { providerType: 'email', method, codeChallenge: ch.codeChallenge, codeChallengeMethod: ch.method, redirectTo, userId });
}

export async function issueAuthCode(db: pg.PoolClient | pg.Pool, flowId: string, userId: string, providerToken: string | null = null, providerRefresh: string | null = null): Promise<string> {
  const code = randomUUID();
  await flowStateDb.issueCode(db, flowId, userId, code, providerToken, providerRefresh);
  return code;
}

export async function exchangePkce(ctx: AuthContext, authCode: unknown, verifier: unknown): Promise<SessionJson> {
  if (typeof authCode !== 'string' || typeof verifier !== 'string' || !authCode || !verifier) {
    throw authErrors.validation('invalid request: both auth code and code verifier should be non-empty');
  }
  return withTransaction(ctx.db, async (db) => {
    const flow = await flowStateDb.takeByCode(db, authCode);
    if (!flow || !flow.user_id || !flow.code_challenge) throw authErrors.flowStateNotFound();
    if (Date.now() - (flow.auth_code_issued_at ?? flow.created_at).getTime() > FLOW_LIFETIMES.codeMs) throw authErrors.flowStateExpired();
    const computed = flow.code_challenge_method === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
    if (computed !== flow.code_challenge) throw authErrors.badCodeVerifier();
    const session = await issueSession(ctx, db, flow.user_id, flow.authentication_method);
    if (flow.provider_access_token) session.provider_token = flow.provider_access_token;
    if (flow.provider_refresh_token) session.provider_refresh_token = flow.provider_refresh_token;
    return session;
  });
}
