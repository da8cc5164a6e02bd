// Signed URL tokens: HS256 with the project's own secret, claims chosen by the server only — the object they are
// bound to (url = "<bucket>/<name>"), the scope (download or upload), and for uploads the owner and upsert flag.
// A download token is refused on the upload endpoint and the other way round (supabase/storage#1135).
import { JwtError, signJwt, verifyJwt } from '@basalt/jwt';
import type { Project } from '@basalt/tenancy';
import { storageErrors } from '../errors.js';

export type Scope = 'download' | 'upload';
/** ten years: longer is refused rather than overflowing exp */
export const MAX_EXPIRES_IN = 10 * 365 * 24 * 3600;

export interface SignedClaims {
  url: string;
  scope: Scope;
  owner?: string;
  upsert?: boolean;
  /** render URLs only: the transform the token was signed for */
  transformations?: string;
  iat: number;
  exp: number;
}

export function expiresIn(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_EXPIRES_IN) {
    throw storageErrors.invalidRequest(`expiresIn must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}`);
  }
  return n;
}

export function signObject(
  project: Project, bucket: string, name: string, scope: Scope, seconds: number,
  upload?: { owner?: string; upsert: boolean }, transformations?: string,
): string {
  const iat = Math.floor(Date.now() / 1000);
  const claims: SignedClaims = { url: `${bucket}/${name}`, scope, iat, exp: iat + seconds };
  if (transformations !== undefined) claims.transformations = transformations;
  if (upload) {
    if (upload.owner) claims.owner = upload.owner;
    claims.upsert = upload.upsert;
  }
  return signJwt({ ...claims }, project.jwtKey);
}

/** `render` says whether the route transforms: a render token is only valid there, a plain one only elsewhere. */
export function verifySigned(project: Project, token: unknown, bucket: string, name: string, scope: Scope, render = false): SignedClaims {
  if (typeof token !== 'string' || token === '') throw storageErrors.invalidSignature('Missing token');
  let claims: Record<string, unknown>;
  try {
    claims = verifyJwt(token, project.jwtKey, { clockToleranceSeconds: 0 });
  } catch (e) {
    if (e instanceof JwtError && e.reason === 'expired') throw storageErrors.invalidJwt('jwt expired');
    throw storageErrors.invalidSignature(e instanceof JwtError ? e.message : 'Invalid signature');
  }
  if (claims.scope !== scope) throw storageErrors.invalidSignature(`Token is not valid for ${scope}`);
  if (claims.url !== `${bucket}/${name}`) throw storageErrors.invalidSignature('Token is not valid for this object');
  if (typeof claims.exp !== 'number') throw storageErrors.invalidSignature('Token has no expiry');
  if (render !== (typeof claims.transformations === 'string')) throw storageErrors.invalidSignature('Token is not valid for this route');
  return claims as unknown as SignedClaims;
}
