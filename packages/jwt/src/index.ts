// HS256 JWTs, signed and verified with node:crypto HMAC over a cached KeyObject.
// The algorithm comes from us, never from the token: anything but HS256 is refused.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export type Claims = Record<string, unknown> & {
  sub?: string;
  role?: string;
  ref?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
};

export type JwtFailure = 'malformed' | 'algorithm' | 'signature' | 'expired' | 'not_yet_valid';

export class JwtError extends Error {
  constructor(readonly reason: JwtFailure, message: string) {
    super(message);
    this.name = 'JwtError';
  }
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export const hmacKey = (secret: string): KeyObject => createSecretKey(Buffer.from(secret, 'utf8'));

export function signJwt(claims: Claims, key: KeyObject): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

function parseSegment(seg: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed', 'token is not a JWT');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError('malformed', 'token is not a JWT');
  return value as Record<string, unknown>;
}

function split(token: string): [string, string, string] {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new JwtError('malformed', 'token is not a JWT');
  return parts as [string, string, string];
}

/** Reads claims without verifying: only for routing (which project's key to verify with), never for trust. */
export function decodeUnverified(token: string): Claims | null {
  try {
    return parseSegment(split(token)[1]) as Claims;
  } catch {
    return null;
  }
}

export interface VerifyOptions {
  /** seconds since epoch; defaults to now */
  now?: number;
  clockToleranceSeconds?: number;
}

export function verifyJwt(token: string, key: KeyObject, opts: VerifyOptions = {}): Claims {
  const [h, p, s] = split(token);
  const header = parseSegment(h);
  if (header.alg !== 'HS256') throw new JwtError('algorithm', `algorithm ${String(header.alg)} is not allowed`);
  const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError('signature', 'invalid JWT signature');
  }
  const claims = parseSegment(p) as Claims;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.clockToleranceSeconds ?? 30;
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp + tolerance <= now)) {
    throw new JwtError('expired', 'JWT expired');
  }
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf - tolerance > now)) {
    throw new JwtError('not_yet_valid', 'JWT not yet valid');
  }
  return claims;
}

export type ApiKeyRole = 'anon' | 'service_role';

/** The project's anon and service_role keys: long-lived JWTs bound to the project by `ref`. */
export function signApiKey(key: KeyObject, ref: string, role: ApiKeyRole, issuedAt = Math.floor(Date.now() / 1000)): string {
  return signJwt({ iss: 'basalt', ref, role, iat: issuedAt, exp: issuedAt + 10 * 365 * 24 * 3600 }, key);
}
