// MFA factors of the signed-in user.
//   POST   /factors                 enroll {factor_type: totp, friendly_name, issuer}
//   POST   /factors/:id/challenge   {id, type, expires_at}
//   POST   /factors/:id/verify      {challenge_id, code} → Session at aal2
//   DELETE /factors/:id             unenroll
import { Router } from 'express';
import type { SecretBox } from '@basalt/crypto';
import { mfa } from '../domain/mfa.js';
import { requireUser } from '../domain/principal.js';
import type { RouteDeps } from './deps.js';

export function factorRoutes({ limit }: RouteDeps, secrets: SecretBox): Router {
  const r = Router();
  const m = mfa(secrets);
  r.post('/factors', async (req, res) => void res.json(await m.enroll(req.ctx, requireUser(req.ctx, req.headers), req.body ?? {})));
  r.post('/factors/:id/challenge', async (req, res) => {
    const p = requireUser(req.ctx, req.headers);
    await limit(req.ctx, 'verify', p.userId);
    res.json(await m.challenge(req.ctx, p, req.params.id));
  });
  r.post('/factors/:id/verify', async (req, res) => {
    const p = requireUser(req.ctx, req.headers);
    await limit(req.ctx, 'verify', p.userId);
    res.json(await m.verify(req.ctx, p, req.params.id, req.body ?? {}));
  });
  r.delete('/factors/:id', async (req, res) => void res.json(await m.unenroll(req.ctx, requireUser(req.ctx, req.headers), req.params.id)));
  return r;
}
