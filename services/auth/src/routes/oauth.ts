// Third-party sign-in (open routes: browsers arrive here without an apikey).
//   GET /authorize?provider=&redirect_to=&scopes=&code_challenge=&code_challenge_method=   302 to the provider
//   GET|POST /callback?code=&state=                                                         302 back to redirect_to
import type { FastifyReply } from 'fastify';
import { BasaltError } from '@basalt/errors';
import { defineRoute } from '@basalt/http';
import type { AuthContext } from '../context.js';
import { finishOAuth, startOAuth } from '../domain/oauth.js';
import { siteUrl } from '../domain/redirect.js';
import { errorFragment, sessionFragment } from '../domain/verify.js';
import { redirect } from './redirect.js';
import { Body, Query } from './schemas.js';

export const oauthRoutes = () => [
  defineRoute({
    method: 'GET', url: '/authorize', schema: { querystring: Query },
    handler: async (req, reply) => {
      const url = await startOAuth(req.ctx, req.query);
      return req.query.skip_http_redirect === 'true' ? { url } : redirect(reply, 302, url);
    },
  }),
  defineRoute({ method: 'GET', url: '/callback', schema: { querystring: Query }, handler: (req, reply) => callback(req.ctx, req.query, reply) }),
  // A provider may post the callback (response_mode=form_post): the form's fields override the query's.
  defineRoute({
    method: 'POST', url: '/callback', schema: { querystring: Query, body: Body },
    handler: (req, reply) => callback(req.ctx, { ...req.query, ...req.body }, reply),
  }),
];

/** Every outcome is a redirect back to the app; failures travel in the fragment as GoTrue puts them. */
async function callback(ctx: AuthContext, params: Record<string, unknown>, reply: FastifyReply) {
  try {
    const result = await finishOAuth(ctx, params);
    if ('session' in result) return redirect(reply, 302, `${result.redirectTo}#${sessionFragment(result.session, 'signup')}`);
    if ('code' in result) {
      const dest = new URL(result.redirectTo);
      dest.searchParams.set('code', result.code);
      return redirect(reply, 302, dest.toString());
    }
    return redirect(reply, 302, `${result.redirectTo}#${errorFragment(result.error, result.errorCode, result.description)}`);
  } catch (e) {
    if (!(e instanceof BasaltError) || (e.status >= 500 && e.status !== 502)) throw e;
    return redirect(reply, 302, `${siteUrl(ctx)}#${errorFragment(e.status === 502 ? 'server_error' : 'invalid_request', e.code, e.message)}`);
  }
}
