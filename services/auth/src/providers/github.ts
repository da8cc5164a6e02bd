// GitHub OAuth apps: authorize at github.com, token at github.com, profile and verified emails at api.github.com.
import { providerJson, type OAuthProvider } from './provider.js';

export const github: OAuthProvider = {
  name: 'github',
  defaultScopes: ['user:email'],
  authorizeUrl(s, p) {
    const q = new URLSearchParams({ client_id: s.client_id, redirect_uri: p.redirectUri, state: p.state, scope: p.scopes.join(' '), response_type: 'code', ...p.extra });
    return `${s.authorize_url ?? 'https://github.com/login/oauth/authorize'}?${q}`;
  },
  async exchange(s, code, redirectUri, egress) {
    const body = await providerJson(egress, s.token_url ?? 'https://github.com/login/oauth/access_token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: s.client_id, client_secret: s.secret, code, redirect_uri: redirectUri }),
    });
    if (typeof body.access_token !== 'string') throw new Error(`github token exchange failed: ${String(body.error ?? 'no access_token')}`);
    return { accessToken: body.access_token, refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : null };
  },
  async user(s, tokens, egress) {
    const headers = { authorization: `Bearer ${tokens.accessToken}` };
    const u = await providerJson(egress, s.user_url ?? 'https://api.github.com/user', { headers });
    const emails = (await providerJson(egress, s.emails_url ?? 'https://api.github.com/user/emails', { headers }).catch(() => [])) as unknown;
    const list = Array.isArray(emails) ? (emails as { email: string; primary: boolean; verified: boolean }[]) : [];
    const primary = list.find((e) => e.primary && e.verified) ?? list.find((e) => e.verified);
    return {
      id: String(u.id),
      email: primary?.email ?? (typeof u.email === 'string' ? u.email : null),
      emailVerified: Boolean(primary),
      name: typeof u.name === 'string' ? u.name : undefined,
      avatarUrl: typeof u.avatar_url === 'string' ? u.avatar_url : undefined,
      raw: { user_name: u.login, preferred_username: u.login, full_name: u.name, avatar_url: u.avatar_url },
    };
  },
};
