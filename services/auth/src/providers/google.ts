// Google OpenID Connect: authorize at accounts.google.com, token at oauth2.googleapis.com, profile from userinfo.
import { providerJson, type OAuthProvider } from './provider.js';

export const google: OAuthProvider = {
  name: 'google',
  defaultScopes: ['openid', 'email', 'profile'],
  idToken: { issuers: ['https://accounts.google.com', 'accounts.google.com'], jwksUrl: 'https://www.googleapis.com/oauth2/v3/certs' },
  authorizeUrl(s, p) {
    const q = new URLSearchParams({ client_id: s.client_id, redirect_uri: p.redirectUri, state: p.state, scope: p.scopes.join(' '), response_type: 'code', ...p.extra });
    return `${s.authorize_url ?? 'https://accounts.google.com/o/oauth2/v2/auth'}?${q}`;
  },
  async exchange(s, code, redirectUri, egress) {
    const body = await providerJson(egress, s.token_url ?? 'https://oauth2.googleapis.com/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: s.client_id, client_secret: s.secret, code, redirect_uri: redirectUri, grant_type: 'authorization_code' }),
    });
    if (typeof body.access_token !== 'string') throw new Error('google token exchange failed');
    return { accessToken: body.access_token, refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : null };
  },
  async user(s, tokens, egress) {
    const u = await providerJson(egress, s.user_url ?? 'https://openidconnect.googleapis.com/v1/userinfo', { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    return {
      id: String(u.sub),
      email: typeof u.email === 'string' ? u.email : null,
      emailVerified: u.email_verified === true || u.email_verified === 'true',
      name: typeof u.name === 'string' ? u.name : undefined,
      avatarUrl: typeof u.picture === 'string' ? u.picture : undefined,
      raw: { full_name: u.name, name: u.name, avatar_url: u.picture, picture: u.picture },
    };
  },
};
