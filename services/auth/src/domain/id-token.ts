// grant_type=id_token: sign in with an OpenID Connect ID token obtained by the app itself (Google One Tap, native
// SDKs). The token must be RS256-signed by a key of the provider's JWKS, issued by the provider, for our client
// id, unexpired, and carry the hash of the nonce the app sent, when it has one.
import { createHash, createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';
import { withTransaction } from '@basalt/db';
import { EgressError, egressFetch, type EgressPolicy } from '@basalt/egress';
import type { AuthContext } from '../context.js';
import { onceMoreIfCreatedMeanwhile } from '../db/users.js';
import { authErrors } from '../errors.js';
import { PROVIDERS } from '../providers/index.js';
import { linkProviderUser } from './oauth.js';
import { issueSession, type SessionJson } from './tokens.js';

const JWKS_TTL_MS = 10 * 60_000;
const jwksCache = new Map<string, { at: number; keys: Map<string, KeyObject> }>();

async function jwks(url: string, egress: EgressPolicy): Promise<Map<string, KeyObject>> {
  const hit = jwksCache.get(url);
  if (hit && Date.now() - hit.at < JWKS_TTL_MS) return hit.keys;
  const r = await egressFetch(url, { policy: egress, timeoutMs: 10_000 });
  if (!r.ok) throw new Error(`jwks answered ${r.status}`);
  const body = (await r.json()) as { keys?: (JsonWebKey & { kid?: string })[] };
  const keys = new Map<string, KeyObject>();
  for (const k of body.keys ?? []) if (k.kty === 'RSA' && k.kid) keys.set(k.kid, createPublicKey({ key: k, format: 'jwk' }));
  jwksCache.set(url, { at: Date.now(), keys });
  return keys;
}

const part = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;

export async function signInWithIdToken(ctx: AuthContext, body: Record<string, unknown>): Promise<SessionJson> {
  const name = typeof body.provider === 'string' ? body.provider : '';
  const provider = PROVIDERS[name];
  const settings = ctx.settings.external[name];
  if (!provider?.idToken) throw authErrors.validation(`Custom OIDC provider "${name}" not allowed`);
  if (!settings?.enabled) throw authErrors.idTokenProviderDisabled(provider.idToken.issuers[0]);
  const token = typeof body.id_token === 'string' ? body.id_token : '';
  const segments = token.split('.');
  if (segments.length !== 3) throw authErrors.badIdToken('not a JWT');
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    [header, claims] = [part(segments[0]), part(segments[1])];
  } catch {
    throw authErrors.badIdToken('not a JWT');
  }
  if (header.alg !== 'RS256' || typeof header.kid !== 'string') throw authErrors.badIdToken('unsupported signing algorithm');
  let key: KeyObject | undefined;
  try {
    key = (await jwks(settings.jwks_url ?? provider.idToken.jwksUrl, ctx.egress)).get(header.kid);
  } catch (e) {
    if (e instanceof EgressError) throw authErrors.egressBlocked(`The ${name} provider's signing keys are not reachable`, e);
    throw Object.assign(authErrors.providerFailed('Could not fetch the provider\'s signing keys'), { cause: e });
  }
  const signed = Buffer.from(`${segments[0]}.${segments[1]}`);
  if (!key || !verifySignature('sha256', signed, key, Buffer.from(segments[2], 'base64url'))) throw authErrors.badIdToken('signature is invalid');
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp < now) throw authErrors.badIdToken('token is expired');
  if (!provider.idToken.issuers.includes(String(claims.iss))) throw authErrors.badIdToken('unexpected issuer');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(settings.client_id)) throw authErrors.badIdToken('audience does not match the client id');
  if (typeof claims.sub !== 'string' || !claims.sub) throw authErrors.badIdToken('missing sub');
  if (typeof claims.nonce === 'string' && claims.nonce) {
    const given = typeof body.nonce === 'string' ? createHash('sha256').update(body.nonce).digest('hex') : null;
    if (given !== claims.nonce) throw authErrors.badIdToken('nonces mismatch');
  }
  const email = typeof claims.email === 'string' ? claims.email : null;
  // two first sign-ins of one account race to create its user: the loser signs in to the winner's
  return onceMoreIfCreatedMeanwhile(() => withTransaction(ctx.db, async (db) => {
    const user = await linkProviderUser(db, name, {
      id: claims.sub as string, email, emailVerified: claims.email_verified === true || claims.email_verified === 'true',
      name: typeof claims.name === 'string' ? claims.name : undefined,
      avatarUrl: typeof claims.picture === 'string' ? claims.picture : undefined,
      raw: { full_name: claims.name, name: claims.name, avatar_url: claims.picture, picture: claims.picture },
    }, null);
    if (user.banned_until && user.banned_until > new Date()) throw authErrors.userBanned();
    return issueSession(ctx, db, user.id, 'oauth');
  }));
}
