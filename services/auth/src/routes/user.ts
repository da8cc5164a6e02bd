// The signed-in user.
//   GET  /user             the user, unwrapped
//   PUT  /user             email, password (+nonce), data
//   GET|POST /reauthenticate   email a nonce for a password change
//   GET  /user/identities/authorize   start linking an OAuth identity ({url} with skip_http_redirect)
//   DELETE /user/identities/:id       unlink an identity (never the last one)
//   GET  /settings         what this project offers
//   GET  /.well-known/jwks.json   the project's public signing keys (in use, standby, previously used)
import { defineRoute } from '@basalt/http';
import { getUser, reauthenticate, updateUser } from '../domain/current-user.js';
import { linkIdentityUrl, unlinkIdentity } from '../domain/identities.js';
import { requireUser } from '../domain/principal.js';
import { redirectTarget } from '../domain/redirect.js';
import { publicSettings } from '../domain/public-settings.js';
import type { RouteDeps } from './deps.js';
import { redirect } from './redirect.js';
import { Body, Id, Query } from './schemas.js';

export const userRoutes = ({ pw }: RouteDeps) => [
  defineRoute({ method: 'GET', url: '/user', handler: (req) => getUser(req.ctx, requireUser(req.ctx, req.headers)) }),
  defineRoute({
    method: 'PUT', url: '/user', schema: { body: Body, querystring: Query },
    handler: (req) => updateUser(req.ctx, pw, requireUser(req.ctx, req.headers), req.body, redirectTarget(req.ctx, req.query.redirect_to)),
  }),
  defineRoute({
    method: ['GET', 'POST'], url: '/reauthenticate',
    handler: async (req) => {
      await reauthenticate(req.ctx, requireUser(req.ctx, req.headers));
      return {};
    },
  }),
  defineRoute({
    method: 'GET', url: '/user/identities/authorize', schema: { querystring: Query },
    handler: async (req, reply) => {
      const url = await linkIdentityUrl(req.ctx, requireUser(req.ctx, req.headers), req.query);
      return req.query.skip_http_redirect === 'true' ? { url } : redirect(reply, 302, url);
    },
  }),
  defineRoute({
    method: 'DELETE', url: '/user/identities/:id', schema: { params: Id },
    handler: async (req) => {
      await unlinkIdentity(req.ctx, requireUser(req.ctx, req.headers), req.params.id);
      return {};
    },
  }),
  defineRoute({ method: 'GET', url: '/settings', handler: (req) => publicSettings(req.ctx.settings) }),
  // HS256 tokens (the project's secret, never published) are verified by auth-js through GET /user; tokens of an
  // asymmetric signing key carry its kid, and auth-js getClaims() verifies them locally against this set, which it
  // caches for 10 minutes; standby keys are published ahead of use so a rotation finds them already cached.
  defineRoute({
    method: 'GET', url: '/.well-known/jwks.json',
    handler: (req, reply) => reply.header('cache-control', 'public, max-age=600').send({ keys: req.ctx.project.jwks }),
  }),
];
