// Verifies a request's token with the project's own secret and yields the database role to run as.
import { decodeUnverified, isExpired, isNotYetValid, JwtError, verifyJwt, type Claims } from '@basalt/jwt';
import type { Project, ProjectRegistry } from './registry.js';

export const REQUEST_ROLES = ['anon', 'authenticated', 'service_role'] as const;
export type RequestRole = (typeof REQUEST_ROLES)[number];

export interface Principal {
  role: RequestRole;
  claims: Claims;
  token: string;
}

export class AuthError extends Error {
  constructor(
    readonly reason: 'missing' | 'invalid' | 'expired' | 'wrong_project' | 'bad_role',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** The bearer token if present, else the apikey header (supabase-js sends both; the bearer carries the user). */
export function requestToken(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (m) return m[1];
  }
  const apikey = headers.apikey;
  return typeof apikey === 'string' && apikey.length > 0 ? apikey : null;
}

// Verified tokens per project: the same anon and service keys and session tokens arrive on every request, and an
// HMAC (or a signature check) plus two JSON parses is a large part of a small request's CPU. The cache hangs off
// the Project object, which the registry replaces when keys rotate, so a rotated key is never served from it; an
// entry is used only while the token is unexpired by verifyJwt's own rule.
const VERIFIED_PER_PROJECT = 1_000;
const EXP_TOLERANCE_SECONDS = 30;
/** a project's verified tokens, and the last one used: most requests carry the token the one before carried (the
 *  anon key), and comparing it with that costs less than hashing a fresh copy of it for the map */
class Verified extends Map<string, Readonly<Claims>> {
  lastToken = '';
  lastClaims: Readonly<Claims> | null = null;
}
const verified = new WeakMap<Project, Verified>();

/** verifyJwt's own time rule, for a token whose signature was checked before */
const timely = (c: Readonly<Claims>, tolerance: number) => !isExpired(c, tolerance) && !isNotYetValid(c, tolerance);

/**
 * The token's claims once it has verified with the project's keys and names no other project; AuthError otherwise.
 * `toleranceSeconds` is the clock skew allowed on exp and nbf (GoTrue's user endpoints allow none).
 */
export function verifiedClaims(project: Project, token: string | null, toleranceSeconds = EXP_TOLERANCE_SECONDS): Readonly<Claims> {
  if (!token) throw new AuthError('missing', 'No API key found in request');
  let cache = verified.get(project);
  const hit = cache === undefined ? undefined : cache.lastToken === token ? cache.lastClaims! : cache.get(token);
  if (hit && timely(hit, toleranceSeconds)) {
    cache!.lastToken = token;
    cache!.lastClaims = hit;
    return hit;
  }
  let claims: Claims;
  try {
    claims = verifyJwt(token, project.jwtKey, { clockToleranceSeconds: toleranceSeconds });
  } catch (e) {
    if (e instanceof JwtError && e.reason === 'expired') throw new AuthError('expired', 'JWT expired');
    throw new AuthError('invalid', e instanceof JwtError ? e.message : 'invalid JWT');
  }
  // A token carrying another project's ref is refused even if it verifies (shared-secret misconfiguration).
  if (claims.ref !== undefined && claims.ref !== project.ref) throw new AuthError('wrong_project', 'token belongs to another project');
  if (!cache) verified.set(project, (cache = new Verified()));
  if (cache.size >= VERIFIED_PER_PROJECT) cache.delete(cache.keys().next().value as string);
  cache.set(token, deepFreeze(claims));
  return claims;
}

/** frozen through and through: a cached token's claims (app_metadata, amr, …) are shared by every request */
function deepFreeze<T extends object>(o: T): Readonly<T> {
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}

export function authenticate(project: Project, token: string | null): Principal {
  const claims = verifiedClaims(project, token);
  const role = claims.role ?? 'anon';
  if (!(REQUEST_ROLES as readonly string[]).includes(role as string)) throw new AuthError('bad_role', `role "${String(role)}" is not allowed`);
  return { role: role as RequestRole, claims, token: token! };
}

/**
 * For services the gateway reaches without resolving a project (the AI gateway, memory): the project is the
 * gateway's x-basalt-ref when it named one, else the token's own `ref` claim (read unverified, only to pick the
 * key), and the token must then verify with that project's keys. An unknown project is AuthError 'invalid'.
 */
export async function authenticateIn(registry: ProjectRegistry, token: string, headerRef: string | undefined): Promise<{ project: Project; principal: Principal }> {
  const ref = headerRef ?? decodeUnverified(token)?.ref;
  const project = typeof ref === 'string' ? await registry.get(ref) : null;
  if (!project) throw new AuthError('invalid', 'no project for this token');
  return { project, principal: authenticate(project, token) };
}
