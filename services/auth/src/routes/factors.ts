// MFA factors of the signed-in user.
//   POST   /factors                 enroll {factor_type: totp, friendly_name, issuer}
//   POST   /factors/:id/challenge   {id, type, expires_at}
//   POST   /factors/:id/verify      {challenge_id, code} → Session at aal2
//   DELETE /factors/:id             unenroll
import type { SecretBox } from '@basalt/crypto';
import { defineRoute } from '@basalt/http';
import { mfa } from '../domain/mfa.js';
import { requireUser } from '../domain/principal.js';
import type { RouteDeps } from './deps.js';
import { Body, Id } from './schemas.js';

export const factorRoutes = ({ limit }: RouteDeps, secrets: SecretBox) => {
  const m = mfa(secrets);
  return [
    defineRoute({
      method: 'POST', url: '/factors', schema: { body: Body },
      handler: (req) => m.enroll(req.ctx, requireUser(req.ctx, req.headers), req.body),
    }),
    defineRoute({
      method: 'POST', url: '/factors/:id/challenge', schema: { params: Id },
      handler: async (req) => {
        const p = requireUser(req.ctx, req.headers);
        await limit(req.ctx, 'verify', p.userId);
        return m.challenge(req.ctx, p, req.params.id);
      },
    }),
    defineRoute({
      method: 'POST', url: '/factors/:id/verify', schema: { params: Id, body: Body },
      handler: async (req) => {
        const p = requireUser(req.ctx, req.headers);
        await limit(req.ctx, 'verify', p.userId);
        return m.verify(req.ctx, p, req.params.id, req.body);
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/factors/:id', schema: { params: Id },
      handler: (req) => m.unenroll(req.ctx, requireUser(req.ctx, req.headers), req.params.id),
    }),
  ];
};
