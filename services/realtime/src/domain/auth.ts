// Who is on a socket or a channel: the project's apikey at connect, a user's JWT per channel (join payload,
// access_token refresh). Verified with the project's own secret; refusals carry Realtime's messages.
import { decodeUnverified, JwtError, verifyJwt, type Claims } from '@basalt/jwt';
import { REQUEST_ROLES, type Principal, type Project, type RequestRole } from '@basalt/tenancy';

export type TokenCheck =
  | { ok: true; principal: Principal }
  | { ok: false; why: 'missing' | 'expired' | 'malformed' | 'signature' | 'fields' | 'role' | 'wrong_project'; agoSeconds?: number };

export function checkToken(project: Project, token: string | null | undefined): TokenCheck {
  if (!token) return { ok: false, why: 'missing' };
  let claims: Claims;
  try {
    claims = verifyJwt(token, project.jwtKey, { clockToleranceSeconds: 0 });
  } catch (e) {
    if (e instanceof JwtError && e.reason === 'expired') {
      const exp = decodeUnverified(token)?.exp;
      return { ok: false, why: 'expired', agoSeconds: typeof exp === 'number' ? Math.max(0, Math.floor(Date.now() / 1000) - exp) : 0 };
    }
    return { ok: false, why: e instanceof JwtError && e.reason === 'signature' ? 'signature' : 'malformed' };
  }
  if (typeof claims.role !== 'string' || typeof claims.exp !== 'number') return { ok: false, why: 'fields' };
  // A token of another project never verifies with this secret; a ref claim naming another is refused anyway.
  if (claims.ref !== undefined && claims.ref !== project.ref) return { ok: false, why: 'wrong_project' };
  if (!(REQUEST_ROLES as readonly string[]).includes(claims.role)) return { ok: false, why: 'role' };
  return { ok: true, principal: { role: claims.role as RequestRole, claims, token } };
}

/** The human-readable reason for a failed check, as Realtime words it. */
export function tokenProblem(c: Exclude<TokenCheck, { ok: true }>): string {
  switch (c.why) {
    case 'missing': return 'API key is missing';
    case 'expired': return `Token has expired ${c.agoSeconds ?? 0} seconds ago`;
    case 'signature': return 'Failed to validate JWT signature';
    case 'fields': return 'Fields `role` and `exp` are required in JWT';
    case 'role': return 'The token role is not allowed';
    case 'wrong_project': return 'The token belongs to another project';
    default: return 'The token provided is not a valid JWT';
  }
}

/** The ref a token claims, to find the project when no gateway header names it (direct replica access). */
export function claimedRef(token: string | null | undefined): string | null {
  if (!token) return null;
  const ref = decodeUnverified(token)?.ref;
  return typeof ref === 'string' ? ref : null;
}

/** `user:<sub>` topics belong to that user (ichibase's model); the service role may join any. */
export function mayJoinUserTopic(subTopic: string, p: Principal): boolean {
  const m = /^user:(.+)$/.exec(subTopic);
  if (!m) return true;
  return p.role === 'service_role' || (typeof p.claims.sub === 'string' && p.claims.sub === m[1]);
}
