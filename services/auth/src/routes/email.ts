// Email-driven flows.
//   POST /recover     {email}                      always {}
//   POST /otp         {email, create_user, data}   {} (alias POST /magiclink)
//   POST /resend      {type, email}                {}
//   POST /verify      {type, token, email} | {type, token_hash}   Session
//   GET  /verify?token=&type=&redirect_to=         303 to redirect_to with tokens in the fragment (or ?code=)
import { Router } from 'express';
import { BasaltError } from '@basalt/errors';
import { recover, resend, sendOtp } from '../domain/email-flows.js';
import { redirectTarget } from '../domain/redirect.js';
import { errorFragment, sessionFragment, verify, verifyEmailOf } from '../domain/verify.js';
import type { RouteDeps } from './deps.js';

const email = (body: Record<string, unknown> | undefined) => (typeof body?.email === 'string' ? body.email : null);

export function emailRoutes({ limit }: RouteDeps): Router {
  const r = Router();
  r.post('/recover', async (req, res) => {
    await limit(req.ctx, 'recover', email(req.body));
    await recover(req.ctx, req.body ?? {}, redirectTarget(req.ctx, req.query.redirect_to));
    res.json({});
  });
  const otp = async (req: import('express').Request, res: import('express').Response) => {
    await limit(req.ctx, 'otp', email(req.body));
    await sendOtp(req.ctx, req.body ?? {}, redirectTarget(req.ctx, req.query.redirect_to));
    res.json({});
  };
  r.post('/otp', otp);
  r.post('/magiclink', otp);
  r.post('/resend', async (req, res) => {
    await limit(req.ctx, 'otp', email(req.body));
    await resend(req.ctx, req.body ?? {}, redirectTarget(req.ctx, req.query.redirect_to));
    res.json({});
  });
  r.post('/verify', async (req, res) => {
    const body = req.body ?? {};
    await limit(req.ctx, 'verify', verifyEmailOf(body));
    const result = await verify(req.ctx, { type: body.type, token: body.token, tokenHash: body.token_hash, email: body.email });
    res.json('session' in result ? result.session : { code: result.code });
  });
  r.get('/verify', async (req, res) => {
    const target = redirectTarget(req.ctx, req.query.redirect_to);
    try {
      await limit(req.ctx, 'verify');
      const result = await verify(req.ctx, { type: req.query.type, tokenHash: req.query.token });
      if ('session' in result) return res.redirect(303, `${target}#${sessionFragment(result.session, result.type)}`);
      const dest = new URL(redirectTarget(req.ctx, result.redirectTo ?? target));
      dest.searchParams.set('code', result.code);
      return res.redirect(303, dest.toString());
    } catch (e) {
      if (!(e instanceof BasaltError) || e.status >= 500) throw e;
      const description = e.code === 'otp_expired' ? 'Email link is invalid or has expired' : e.message;
      res.redirect(303, `${target}#${errorFragment(e.status === 429 ? 'rate_limited' : 'access_denied', e.code, description)}`);
    }
  });
  return r;
}
