// The signed-in user.
//   GET  /user             the user, unwrapped
//   PUT  /user             email, password (+nonce), data
//   GET|POST /reauthenticate   email a nonce for a password change
//   GET  /user/identities/authorize   start linking an OAuth identity ({url} with skip_http_redirect)
//   DELETE /user/identities/:id       unlink an identity (never the last one)
//   GET  /settings         what this project offers
//   GET  /.well-known/jwks.json   no asymmetric keys (HS256 only)
import { Router } from 'express';
import { getUser, reauthenticate, updateUser } from '../domain/current-user.js';
import { linkIdentityUrl, unlinkIdentity } from '../domain/identities.js';
import { requireUser } from '../domain/principal.js';
import { redirectTarget } from '../domain/redirect.js';
import { publicSettings } from '../domain/public-settings.js';
import type { RouteDeps } from './deps.js';

export function userRoutes({ pw }: RouteDeps): Router {
  const r = Router();
  r.get('/user', async (req, res) => void res.json(await getUser(req.ctx, requireUser(req.ctx, req.headers))));
  r.put('/user', async (req, res) =>
    void res.json(await updateUser(req.ctx, pw, requireUser(req.ctx, req.headers), req.body ?? {}, redirectTarget(req.ctx, req.query.redirect_to))),
  );
  const reauth = async (req: import('express').Request, res: import('express').Response) => {
    await reauthenticate(req.ctx, requireUser(req.ctx, req.headers));
    res.json({});
  };
  r.get('/reauthenticate', reauth);
  r.post('/reauthenticate', reauth);
  r.get('/user/identities/authorize', async (req, res) => {
    const url = await linkIdentityUrl(req.ctx, requireUser(req.ctx, req.headers), req.query as Record<string, unknown>);
    if (req.query.skip_http_redirect === 'true') return void res.json({ url });
    res.redirect(302, url);
  });
  r.delete('/user/identities/:id', async (req, res) => {
    await unlinkIdentity(req.ctx, requireUser(req.ctx, req.headers), req.params.id);
    res.json({});
  });
  r.get('/settings', (req, res) => void res.json(publicSettings(req.ctx.settings)));
  // Tokens are HS256 with the project's secret, which is never published: auth-js then verifies through GET /user.
  r.get('/.well-known/jwks.json', (_req, res) => void res.json({ keys: [] }));
  return r;
}
