// Third-party sign-in: /authorize sends the browser to the provider with state = a flow_state id; /callback
// trades the code, finds or creates the user, and redirects with tokens in the fragment (implicit) or a
// ?code= to exchange with the PKCE verifier. An existing account is linked only through a verified email.
import { withTransaction } from '@basalt/db';
import { EgressError } from '@basalt/egress';
import type pg from 'pg';
import type { AuthContext } from '../context.js';
import { flowStateDb } from '../db/flow-state.js';
import { identitiesDb } from '../db/identities.js';
import { createdMeanwhile, onceMoreIfCreatedMeanwhile, usersDb, type UserRow } from '../db/users.js';
import { authErrors } from '../errors.js';
import { PROVIDERS, type OAuthProvider, type ProviderUser } from '../providers/index.js';
import type { ProviderSettings } from './settings.js';
import { FLOW_LIFETIMES, issueAuthCode, parseChallenge } from './pkce.js';
import { redirectTarget } from './redirect.js';
import { issueSession, type SessionJson } from './tokens.js';
import { isUuid } from './validate.js';

/** expired flows each /authorize deletes: more than it adds, so anonymous calls cannot outgrow the lifetime */
const PRUNE_PER_START = 10;

function providerFor(ctx: AuthContext, name: unknown): { provider: OAuthProvider; settings: ProviderSettings } {
  const provider = typeof name === 'string' ? PROVIDERS[name] : undefined;
  const settings = typeof name === 'string' ? ctx.settings.external[name] : undefined;
  if (!provider || !settings?.enabled) throw authErrors.providerDisabled(String(name ?? ''));
  return { provider, settings };
}

const callbackUrl = (ctx: AuthContext) => `${ctx.authUrl}/callback`;

/** `linkTo`: the signed-in user an identity is being linked to (GET /user/identities/authorize). */
export async function startOAuth(ctx: AuthContext, query: Record<string, unknown>, linkTo: string | null = null): Promise<string> {
  const { provider, settings } = providerFor(ctx, query.provider);
  const challenge = parseChallenge(query);
  const scopes = typeof query.scopes === 'string' && query.scopes.trim() ? query.scopes.trim().split(/\s+/) : [];
  await flowStateDb.removeExpired(ctx.db, FLOW_LIFETIMES, PRUNE_PER_START);
  const flowId = await flowStateDb.create(ctx.db, {
    providerType: provider.name, method: 'oauth', codeChallenge: challenge?.codeChallenge ?? null,
    codeChallengeMethod: challenge?.method ?? null, redirectTo: redirectTarget(ctx, query.redirect_to), userId: linkTo,
  });
  const reserved = new Set(['provider', 'redirect_to', 'scopes', 'code_challenge', 'code_challenge_method', 'skip_http_redirect', 'apikey']);
  const extra = Object.fromEntries(Object.entries(query).filter(([k, v]) => !reserved.has(k) && typeof v === 'string')) as Record<string, string>;
  return provider.authorizeUrl(settings, {
    redirectUri: callbackUrl(ctx), state: flowId, scopes: [...new Set([...provider.defaultScopes, ...scopes])], extra,
  });
}

export async function linkProviderUser(db: pg.PoolClient, provider: string, pu: ProviderUser, linkTo: string | null): Promise<UserRow> {
  const identityData = { ...pu.raw, sub: pu.id, provider_id: pu.id, iss: provider, email: pu.email, email_verified: pu.emailVerified, name: pu.name, avatar_url: pu.avatarUrl };
  const linked = await identitiesDb.find(db, provider, pu.id);
  if (linkTo && linked && linked.user_id !== linkTo) throw authErrors.identityExists();
  let userId = linkTo ?? linked?.user_id ?? null;
  if (!userId && pu.email && pu.emailVerified) {
    const byEmail = await usersDb.byEmail(db, pu.email);
    // Only a confirmed account is linked: an unconfirmed one may have been registered by someone else.
    if (byEmail?.email_confirmed_at) userId = byEmail.id;
  }
  if (!userId) {
    const taken = pu.email ? await usersDb.byEmail(db, pu.email) : null;
    userId = await usersDb.insert(db, {
      email: taken ? null : pu.email?.toLowerCase() ?? null, passwordHash: null, emailConfirmed: Boolean(pu.email && pu.emailVerified && !taken),
      appMetadata: { provider, providers: [provider] }, userMetadata: identityData,
    });
  }
  const owner = await identitiesDb.claim(db, userId, provider, pu.id, identityData);
  if (owner !== userId) {
    if (linkTo) throw authErrors.identityExists();
    // a sign-in racing this one linked the identity first: the user made here must not stay, without an identity
    throw createdMeanwhile();
  }
  const user = (await usersDb.byId(db, userId))!;
  const providers = new Set<string>((user.raw_app_meta_data.providers as string[] | undefined) ?? []);
  if (!providers.has(provider)) {
    providers.add(provider);
    await usersDb.mergeMetadata(db, userId, 'raw_app_meta_data', { providers: [...providers] });
  }
  return (await usersDb.byId(db, userId))!;
}

export type CallbackResult = { redirectTo: string } & ({ session: SessionJson } | { code: string } | { error: string; errorCode: string; description: string });

export async function finishOAuth(ctx: AuthContext, query: Record<string, unknown>): Promise<CallbackResult> {
  if (!isUuid(query.state)) throw authErrors.badOAuthState();
  const flow = await flowStateDb.byId(ctx.db, query.state);
  if (!flow || flow.auth_code || flow.provider_type === 'email') throw authErrors.badOAuthState();
  const redirectTo = redirectTarget(ctx, flow.redirect_to);
  if (Date.now() - flow.created_at.getTime() > FLOW_LIFETIMES.oauthMs) {
    await flowStateDb.remove(ctx.db, flow.id);
    throw authErrors.flowStateExpired();
  }
  if (typeof query.error === 'string') {
    await flowStateDb.remove(ctx.db, flow.id);
    return { redirectTo, error: query.error, errorCode: 'provider_error', description: String(query.error_description ?? query.error) };
  }
  if (typeof query.code !== 'string' || !query.code) throw authErrors.badOAuthCallback('OAuth callback with missing authorization code');
  const { provider, settings } = providerFor(ctx, flow.provider_type);
  let tokens;
  let pu: ProviderUser;
  try {
    tokens = await provider.exchange(settings, query.code, callbackUrl(ctx), ctx.egress);
    pu = await provider.user(settings, tokens, ctx.egress);
  } catch (e) {
    if (e instanceof EgressError) throw authErrors.egressBlocked(`The ${provider.name} provider's endpoint is not reachable`, e);
    throw Object.assign(authErrors.providerFailed(`Error getting user profile from external provider`), { cause: e });
  }
  // two first sign-ins of one account race to create its user: the loser signs in to the winner's
  return onceMoreIfCreatedMeanwhile(() => withTransaction(ctx.db, async (db) => {
    const user = await linkProviderUser(db, provider.name, pu, flow.user_id);
    if (user.banned_until && user.banned_until > new Date()) throw authErrors.userBanned();
    if (flow.code_challenge) {
      return { redirectTo, code: await issueAuthCode(db, flow.id, user.id, tokens.accessToken, tokens.refreshToken) };
    }
    await flowStateDb.remove(db, flow.id);
    const session = await issueSession(ctx, db, user.id, 'oauth');
    session.provider_token = tokens.accessToken;
    if (tokens.refreshToken) session.provider_refresh_token = tokens.refreshToken;
    return { redirectTo, session };
  }));
}
