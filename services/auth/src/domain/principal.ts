// Who is calling a user endpoint: the bearer access token, verified with the project's own secret.
// The algorithm is fixed to HS256 by @basalt/jwt, so alg:none and key-confusion tokens never verify.
import type { Claims } from '@basalt/jwt';
import { AuthError, verifiedClaims } from '@basalt/tenancy';
import type { AuthContext } from '../context.js';
import { authErrors } from '../errors.js';

export interface UserPrincipal {
  userId: string;
  sessionId: string | null;
  aal: string;
  role: string;
  claims: Claims;
  token: string;
}

export function bearer(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth !== 'string') return null;
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  return m ? m[1] : null;
}

export function verifyBearer(ctx: AuthContext, headers: Record<string, string | string[] | undefined>): { claims: Claims; token: string } {
  const token = bearer(headers);
  if (!token) throw authErrors.noAuthorization();
  // verified once per project object (tenancy's cache), with no clock skew allowed, as GoTrue
  try {
    return { claims: verifiedClaims(ctx.project, token, 0) as Claims, token };
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    if (e.reason === 'wrong_project') throw authErrors.badJwt('token belongs to another project');
    throw authErrors.badJwt(e.reason === 'expired' ? 'token has invalid claims: token is expired' : 'signature is invalid');
  }
}

export function requireUser(ctx: AuthContext, headers: Record<string, string | string[] | undefined>): UserPrincipal {
  const { claims, token } = verifyBearer(ctx, headers);
  if (typeof claims.sub !== 'string' || !/^[0-9a-f-]{36}$/i.test(claims.sub)) throw authErrors.missingSub();
  return {
    userId: claims.sub,
    sessionId: typeof claims.session_id === 'string' && /^[0-9a-f-]{36}$/i.test(claims.session_id) ? claims.session_id : null,
    aal: typeof claims.aal === 'string' ? claims.aal : 'aal1',
    role: String(claims.role ?? ''),
    claims,
    token,
  };
}

/** JWT_ADMIN_ROLES: service_role and supabase_admin. */
export function requireAdmin(ctx: AuthContext, headers: Record<string, string | string[] | undefined>): void {
  const { claims } = verifyBearer(ctx, headers);
  if (claims.role !== 'service_role' && claims.role !== 'supabase_admin') throw authErrors.notAdmin();
}
