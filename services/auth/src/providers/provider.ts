// One OAuth provider: where to send the browser, how to trade the code, who the user is.
// Adding a provider is one file implementing this, listed in providers/index.ts.
import { egressFetch, type EgressPolicy } from '@basalt/egress';
import type { ProviderSettings } from '../domain/settings.js';

export interface ProviderUser {
  /** the provider's stable subject id */
  id: string;
  email: string | null;
  emailVerified: boolean;
  name?: string;
  avatarUrl?: string;
  /** everything else the provider said, kept in identity_data */
  raw: Record<string, unknown>;
}

export interface ProviderTokens {
  accessToken: string;
  refreshToken: string | null;
}

export interface OAuthProvider {
  name: string;
  defaultScopes: string[];
  authorizeUrl(s: ProviderSettings, p: { redirectUri: string; state: string; scopes: string[]; extra: Record<string, string> }): string;
  /** `egress`: every endpoint is configurable per project, so every call goes through the egress policy */
  exchange(s: ProviderSettings, code: string, redirectUri: string, egress: EgressPolicy): Promise<ProviderTokens>;
  user(s: ProviderSettings, tokens: ProviderTokens, egress: EgressPolicy): Promise<ProviderUser>;
  /** OpenID Connect providers: sign-in with an ID token the app obtained itself (grant_type=id_token) */
  idToken?: { issuers: string[]; jwksUrl: string };
}

/** JSON over fetch with a timeout; a provider that misbehaves is a 502, never a hang; a refused endpoint is an EgressError. */
export async function providerJson(egress: EgressPolicy, url: string, init: RequestInit): Promise<Record<string, unknown>> {
  const r = await egressFetch(url, { ...init, policy: egress, timeoutMs: 10_000, headers: { accept: 'application/json', 'user-agent': 'basalt-auth', ...(init.headers ?? {}) } });
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = Object.fromEntries(new URLSearchParams(text));
  }
  if (!r.ok) throw new Error(`provider answered ${r.status}`);
  return body as Record<string, unknown>;
}
