// Signing up, in and out.
//   POST /signup                          email+password or anonymous
//   POST /token?grant_type=password       email+password
//   POST /token?grant_type=refresh_token  rotate
//   POST /token?grant_type=pkce           exchange an auth code (OAuth, email links)
//   POST /token?grant_type=id_token       an OpenID Connect ID token (Google)
//   POST /logout?scope=global|local|others
import { Router } from 'express';
import { signInWithPassword, signUp } from '../domain/accounts.js';
import { logout } from '../domain/current-user.js';
import { signInWithIdToken } from '../domain/id-token.js';
import { exchangePkce } from '../domain/pkce.js';
import { requireUser } from '../domain/principal.js';
import { redirectTarget } from '../domain/redirect.js';
import { refreshSession } from '../domain/refresh.js';
import { authErrors } from '../errors.js';
import type { RouteDeps } from './deps.js';

export function sessionRoutes({ pw, limit }: RouteDeps): Router {
  const r = Router();
  r.post('/signup', async (req, res) => {
    const body = req.body ?? {};
    await limit(req.ctx, 'signup', typeof body.email === 'string' ? body.email : null);
    res.json(await signUp(req.ctx, pw, body, redirectTarget(req.ctx, req.query.redirect_to)));
  });
  r.post('/token', async (req, res) => {
    const body = req.body ?? {};
    switch (req.query.grant_type) {
      case 'password':
        await limit(req.ctx, 'token', typeof body.email === 'string' ? body.email : null);
        return void res.json(await signInWithPassword(req.ctx, pw, body));
      case 'refresh_token':
        await limit(req.ctx, 'refresh');
        return void res.json(await refreshSession(req.ctx, body.refresh_token));
      case 'id_token':
        await limit(req.ctx, 'token');
        return void res.json(await signInWithIdToken(req.ctx, body));
      case 'pkce':
        await limit(req.ctx, 'verify');
        return void res.json(await exchangePkce(req.ctx, body.auth_code, body.code_verifier));
      default:
        throw authErrors.unsupportedGrant();
    }
  });
  r.post('/logout', async (req, res) => {
    await logout(req.ctx, requireUser(req.ctx, req.headers), req.query.scope);
    res.status(204).end();
  });
  return r;
}
