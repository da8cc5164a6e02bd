// Third-party sign-in (open routes: browsers arrive here without an apikey).
//   GET /authorize?provider=&redirect_to=&scopes=&code_challenge=&code_challenge_method=   302 to the provider
//   GET|POST /callback?code=&state=                                                         302 back to redirect_to
import { Router, type Request, type Response } from 'express';
import { BasaltError } from '@basalt/errors';
import { finishOAuth, startOAuth } from '../domain/oauth.js';
import { errorFragment, sessionFragment } from '../domain/verify.js';
import { siteUrl } from '../domain/redirect.js';

export function oauthRoutes(): Router {
  const r = Router();
  r.get('/authorize', async (req, res) => {
    const url = await startOAuth(req.ctx, req.query as Record<string, unknown>);
    if (req.query.skip_http_redirect === 'true') return void res.json({ url });
    res.redirect(302, url);
  });
  const callback = async (req: Request, res: Response) => {
    const params = { ...(req.query as Record<string, unknown>), ...(req.method === 'POST' ? (req.body ?? {}) : {}) };
    try {
      const result = await finishOAuth(req.ctx, params);
      if ('session' in result) return res.redirect(302, `${result.redirectTo}#${sessionFragment(result.session, 'signup')}`);
      if ('code' in result) {
        const dest = new URL(result.redirectTo);
        dest.searchParams.set('code', result.code);
        return res.redirect(302, dest.toString());
      }
      res.redirect(302, `${result.redirectTo}#${errorFragment(result.error, result.errorCode, result.description)}`);
    } catch (e) {
      if (!(e instanceof BasaltError) || (e.status >= 500 && e.status !== 502)) throw e;
      res.redirect(302, `${siteUrl(req.ctx)}#${errorFragment(e.status === 502 ? 'server_error' : 'invalid_request', e.code, e.message)}`);
    }
  };
  r.get('/callback', callback);
  r.post('/callback', callback);
  return r;
}
