// JWTs signed and verified with node:crypto: HS256 with a project's shared secret, and ES256, RS256 and EdDSA
// with a project's asymmetric signing keys (Supabase's signing-keys model), picked by the token's `kid`.
// The key decides the algorithm, never the token: an HS256 token is checked only with the shared secret, an
// asymmetric one only with the public key its kid names and only under that key's own algorithm.
import {
  createHmac, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, sign as cryptoSign, timingSafeEqual,
  verify as cryptoVerify, type JsonWebKey, type KeyObject,
} from 'node:crypto';

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

export type AsymmetricAlg = 'ES256' | 'RS256' | 'EdDSA';
export const ASYMMETRIC_ALGS: readonly AsymmetricAlg[] = ['ES256', 'RS256', 'EdDSA'];

export interface SigningKey {
  kid: string;
  alg: AsymmetricAlg;
  key: KeyObject;
}

/**
 * A project's keys: the shared HS256 secret (the anon and service_role keys, internal tokens) and the public
 * keys of its asymmetric signing keys by kid; `signing` is the private key of the one in use, if any.
 */
export interface KeySet {
  hmac: KeyObject;
  verify: ReadonlyMap<string, SigningKey>;
  signing: SigningKey | null;
}

export type JwtKey = KeyObject | KeySet;

const isKeySet = (k: JwtKey): k is KeySet => 'hmac' in k;

export function keySet(hmac: KeyObject, keys: { kid: string; alg: AsymmetricAlg; publicJwk: JsonWebKey; privateJwk?: JsonWebKey | null; current?: boolean }[] = []): KeySet {
  const verify = new Map<string, SigningKey>();
  let signing: SigningKey | null = null;
  for (const k of keys) {
    verify.set(k.kid, { kid: k.kid, alg: k.alg, key: createPublicKey({ key: k.publicJwk, format: 'jwk' }) });
    if (k.current && k.privateJwk) signing = { kid: k.kid, alg: k.alg, key: createPrivateKey({ key: k.privateJwk, format: 'jwk' }) };
  }
  return { hmac, verify, signing };
}

/** A new key pair for `alg`, as JWKs (the public one carries kid, alg and use). */
export function generateSigningKey(alg: AsymmetricAlg, kid: string): { privateJwk: JsonWebKey; publicJwk: JsonWebKey } {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ed25519');
  const meta = { kid, alg, use: 'sig' };
  return { privateJwk: { ...pair.privateKey.export({ format: 'jwk' }), ...meta }, publicJwk: { ...pair.publicKey.export({ format: 'jwk' }), ...meta } };
}

const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function signWith(k: SigningKey, data: string): string {
  if (k.alg === 'ES256') return cryptoSign('sha256', Buffer.from(data), { key: k.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  if (k.alg === 'RS256') return cryptoSign('sha256', Buffer.from(data), k.key).toString('base64url');
  return cryptoSign(null, Buffer.from(data), k.key).toString('base64url');
}

function verifyWith(k: SigningKey, data: string, signature: Buffer): boolean {
  if (k.alg === 'ES256') return cryptoVerify('sha256', Buffer.from(data), { key: k.key, dsaEncoding: 'ieee-p1363' }, signature);
  if (k.alg === 'RS256') return cryptoVerify('sha256', Buffer.from(data), k.key, signature);
  return cryptoVerify(null, Buffer.from(data), k.key, signature);
}

/**
 * Signs with the shared secret (HS256). With a KeySet and `{ asymmetric: true }`, signs with the project's
 * signing key in use when it has one (its kid in the header), else with the shared secret.
 */
export function signJwt(claims: Claims, key: JwtKey, opts: { asymmetric?: boolean } = {}): string {
  if (isKeySet(key) && opts.asymmetric && key.signing) {
    const k = key.signing;
    const body = `${b64json({ alg: k.alg, kid: k.kid, typ: 'JWT' })}.${b64json(claims)}`;
    return `${body}.${signWith(k, body)}`;
  }
  const hmac = isKeySet(key) ? key.hmac : key;
  const body = `${HEADER}.${b64json(claims)}`;
  return `${body}.${createHmac('sha256', hmac).update(body).digest('base64url')}`;
}

/** how deeply a token's header or claims may nest: claims are serialised again (request.jwt.claims), recursively */
const MAX_NESTING = 64;

/** whether JSON text nests objects and arrays deeper than `max` (strings skipped), without recursion */
function nestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) { // a string: to its closing quote, escapes skipped
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

function parseSegment(seg: string): Record<string, unknown> {
  let value: unknown;
  const text = Buffer.from(seg, 'base64url').toString('utf8');
  // a validly signed token nested thousands deep parsed, then overflowed the stack where its claims were
  // serialised for the database (a 500 in REST and storage)
  if (nestsDeeper(text, MAX_NESTING)) throw new JwtError('malformed', 'JWT nested too deeply');
  try {
    value = JSON.parse(text);
  } catch {
    throw new JwtError('malformed', 'token is not a JWT');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError('malformed', 'token is not a JWT');
  return value as Record<string, unknown>;
}

const isJwtShape = (parts: string[]) => parts.length === 3 && parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p));

function split(token: string): [string, string, string] {
  const parts = token.split('.');
  if (!isJwtShape(parts)) throw new JwtError('malformed', 'token is not a JWT');
  return parts as [string, string, string];
}

/** Reads claims without verifying: only for routing (which project's key to verify with), never for trust. */
export function decodeUnverified(token: string): Claims | null {
  // opaque keys (bsk_…, sb_…) reach here on every request: no exception (and its stack) for them
  const parts = token.split('.');
  if (!isJwtShape(parts)) return null;
  try {
    return parseSegment(parts[1]) as Claims;
  } catch {
    return null;
  }
}

export interface VerifyOptions {
  /** seconds since epoch; defaults to now */
  now?: number;
  clockToleranceSeconds?: number;
}

export function verifyJwt(token: string, key: JwtKey, opts: VerifyOptions = {}): Claims {
  const [h, p, s] = split(token);
  const header = parseSegment(h);
  const given = Buffer.from(s, 'base64url');
  if (header.alg === 'HS256') {
    const expected = createHmac('sha256', isKeySet(key) ? key.hmac : key).update(`${h}.${p}`).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new JwtError('signature', 'invalid JWT signature');
  } else if (isKeySet(key) && typeof header.kid === 'string' && key.verify.has(header.kid)) {
    const k = key.verify.get(header.kid)!;
    if (header.alg !== k.alg) throw new JwtError('algorithm', `algorithm ${String(header.alg)} does not match key ${k.kid}`);
    if (!verifyWith(k, `${h}.${p}`, given)) throw new JwtError('signature', 'invalid JWT signature');
  } else if (typeof header.alg === 'string' && (ASYMMETRIC_ALGS as readonly string[]).includes(header.alg)) {
    throw new JwtError('signature', `no signing key with kid ${JSON.stringify(header.kid ?? null)}`);
  } else {
    throw new JwtError('algorithm', `algorithm ${String(header.alg)} is not allowed`);
  }
  const claims = parseSegment(p) as Claims;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.clockToleranceSeconds ?? 30;
  if (isExpired(claims, tolerance, now)) throw new JwtError('expired', 'JWT expired');
  if (isNotYetValid(claims, tolerance, now)) throw new JwtError('not_yet_valid', 'JWT not yet valid');
  return claims;
}

/** verifyJwt's expiry rule: past exp by more than the tolerance (a non-numeric exp never passes) */
export const isExpired = (claims: Readonly<Claims>, toleranceSeconds: number, now = Math.floor(Date.now() / 1000)): boolean =>
  claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp + toleranceSeconds <= now);

/** verifyJwt's not-before rule: before nbf by more than the tolerance (a non-numeric nbf never passes) */
export const isNotYetValid = (claims: Readonly<Claims>, toleranceSeconds: number, now = Math.floor(Date.now() / 1000)): boolean =>
  claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf - toleranceSeconds > now);

export type ApiKeyRole = 'anon' | 'service_role';

/** The project's anon and service_role keys: long-lived JWTs bound to the project by `ref`. */
export function signApiKey(key: KeyObject, ref: string, role: ApiKeyRole, issuedAt = Math.floor(Date.now() / 1000)): string {
  return signJwt({ iss: 'basalt', ref, role, iat: issuedAt, exp: issuedAt + 10 * 365 * 24 * 3600 }, key);
}
