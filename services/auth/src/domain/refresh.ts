// grant_type=refresh_token: rotate the presented token, GoTrue's rules (internal/tokens/service.go):
//  - active token → revoke it, issue a child;
//  - revoked, but the parent of the session's active token → hand back that active token (the client lost
//    the last response; we recover the child from its sealed copy, which only the parent's holder can open);
//  - revoked within the reuse interval → issue another child (concurrent refreshes from several tabs);
//  - otherwise → reuse of a stolen token: the session and every token of its family are ended.
// An active token, by far the common case, rotates in one statement (db/rotations.ts: one round trip, shared with
// the refreshes waiting at the same moment, where the locking path below takes six). Every other case, and an
// active token another refresh revoked first or whose session another transaction holds, takes the locking path:
// the session row is locked FOR UPDATE NOWAIT; a busy lock closes the transaction and retries shortly after, so
// waiting refreshes do not each hold a pooled connection.
import { hashToken } from '@basalt/crypto';
import { withTransaction } from '@basalt/db';
import type { AuthContext } from '../context.js';
import { rotateActive } from '../db/rotations.js';
import { sessionsDb } from '../db/sessions.js';
import { usersDb } from '../db/users.js';
import { authErrors } from '../errors.js';
import { newRefreshToken, seal, sessionJson, unseal, type SessionJson } from './tokens.js';

const RETRY_FOR_MS = 5_000;
const FAMILY_REVOKED = Symbol('family revoked');

export async function refreshSession(ctx: AuthContext, token: unknown): Promise<SessionJson> {
  if (typeof token !== 'string' || token.length === 0) throw authErrors.refreshInvalid();
  if (token.length > 256) throw authErrors.refreshNotFound();
  const hash = hashToken(token);
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    try {
      const next = newRefreshToken();
      const fast = await rotateActive(ctx.db, { hash, childHash: hashToken(next), sealed: seal(next, token) });
      if (fast) return sessionJson(ctx, fast.user, fast.session, fast.amr, next);
      const result = await rotateLocked(ctx, token, hash);
      // The family is revoked in a committed transaction before the error goes out.
      if (result === FAMILY_REVOKED) throw authErrors.refreshAlreadyUsed();
      return result;
    } catch (e) {
      if ((e as { code?: string }).code !== '55P03') throw e;
      if (Date.now() > deadline) throw authErrors.tooManyConcurrentRefreshes();
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
  }
}

/** GoTrue's rules under the session lock, for a token that is not simply active (or lost the race for it). */
function rotateLocked(ctx: AuthContext, token: string, hash: string): Promise<SessionJson | typeof FAMILY_REVOKED> {
  return withTransaction(ctx.db, async (db) => {
    const session = await sessionsDb.lockByRefresh(db, hash);
    if (!session) throw authErrors.refreshNotFound();
    if (session.not_after && session.not_after < new Date()) throw authErrors.refreshNotFound();
    // Read under the lock, so concurrent refreshes of one session see each other's rotation.
    const { presented, active, amr } = await sessionsDb.refreshState(db, hash, session.id);
    if (!presented) throw authErrors.refreshNotFound();
    const user = await usersDb.byId(db, session.user_id);
    if (!user || user.deleted_at) throw authErrors.refreshNotFound();
    if (user.banned_until && user.banned_until > new Date()) throw authErrors.userBanned();

    let issued: string | null = null;
    if (presented.revoked) {
      const reuseMs = ctx.settings.refresh_token_reuse_interval * 1000;
      if (active && active.parent === hash && active.sealed) issued = unseal(active.sealed, token);
      if (!issued && presented.updated_at.getTime() + reuseMs < Date.now()) {
        await sessionsDb.remove(db, session.id);
        return FAMILY_REVOKED;
      }
    }
    let child = null;
    if (!issued) {
      issued = newRefreshToken();
      child = { hash: hashToken(issued), userId: user.id, sessionId: session.id, parent: hash, sealed: seal(issued, token) };
    }
    await sessionsDb.rotate(db, { presentedId: presented.id, child });
    return sessionJson(ctx, user, session, amr, issued);
  });
}
