// Signing up, in and out.
//   POST /signup                          email+password, phone+password or anonymous
//   POST /token?grant_type=password       email+password
//   POST /token?grant_type=refresh_token  rotate
//   POST /token?grant_type=pkce           exchange an auth code (OAuth, email links)
//   POST /token?grant_type=id_token       an OpenID Connect ID token (Google)
//   POST /logout?scope=global|local|others
import { defineRoute } from '@basalt/http';
import { signInWithPassword, signUp } from '../domain/accounts.js';
import { logout } from '../domain/current-user.js';
import { signInWithIdToken } from '../domain/id-token.js';
import { textedNumber } from '../domain/phone.js';
import { exchangePkce } from '../domain/pkce.js';
import { requireUser } from '../domain/principal.js';
import { redirectTarget } from '../domain/redirect.js';
import { refreshSession } from '../domain/refresh.js';
import { authErrors } from '../errors.js';
import type { RouteDeps } from './deps.js';
import { Body, Query } from './schemas.js';

const emailOf = (body: Record<string, unknown>) => (typeof body.email === 'string' ? body.email : null);

export const sessionRoutes = ({ pw, limit }: RouteDeps) => [
  defineRoute({
    method: 'POST', url: '/signup', schema: { body: Body, querystring: Query },
    handler: async (req) => {
      await limit(req.ctx, 'signup', emailOf(req.body));
      const texted = textedNumber(req.body);
      if (texted) await limit(req.ctx, 'sms', texted);
      return signUp(req.ctx, pw, req.body, redirectTarget(req.ctx, req.query.redirect_to));
    },
  }),
  defineRoute({
    method: 'POST', url: '/token', schema: { body: Body, querystring: Query },
    handler: async (req) => {
      const body = req.body;
      switch (req.query.grant_type) {
        case 'password':
          await limit(req.ctx, 'token', emailOf(body));
          return signInWithPassword(req.ctx, pw, body);
        case 'refresh_token':
          await limit(req.ctx, 'refresh');
          return refreshSession(req.ctx, body.refresh_token);
        case 'id_token':
          await limit(req.ctx, 'token');
          return signInWithIdToken(req.ctx, body);
        case 'pkce':
          await limit(req.ctx, 'verify');
          return exchangePkce(req.ctx, body.auth_code, body.code_verifier);
        case 'web3':
          // no Web3 (Solana, Ethereum) sign-in here: answered as GoTrue does with both chains off
          throw authErrors.web3Disabled();
        default:
          throw authErrors.unsupportedGrant();
      }
    },
  }),
  defineRoute({
    method: 'POST', url: '/logout', schema: { querystring: Query },
    handler: async (req, reply) => {
      await logout(req.ctx, requireUser(req.ctx, req.headers), req.query.scope);
      return reply.code(204).send();
    },
  }),
];
