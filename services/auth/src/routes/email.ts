// Email-driven flows.
//   POST /recover     {email}                      always {}
//   POST /otp         {email, create_user, data}   {} (alias POST /magiclink); {phone, …} → {message_id}
//   POST /resend      {type, email}                {}; {type: sms | phone_change, phone} → {message_id}
//   POST /verify      {type, token, email} | {type, token_hash} | {type: sms | phone_change, token, phone}   Session
//   GET  /verify?token=&type=&redirect_to=         303 to redirect_to with tokens in the fragment (or ?code=)
import type { FastifyReply } from 'fastify';
import { BasaltError } from '@basalt/errors';
import { defineRoute, type RouteRequest } from '@basalt/http';
import { recover, resend, sendOtp } from '../domain/email-flows.js';
import { textedNumber } from '../domain/phone.js';
import { redirectTarget } from '../domain/redirect.js';
import { errorFragment, sessionFragment, verify, verifyEmailOf } from '../domain/verify.js';
import type { RouteDeps } from './deps.js';
import { redirect } from './redirect.js';
import { Body, Query } from './schemas.js';

const email = (body: Record<string, unknown>) => (typeof body.email === 'string' ? body.email : null);
const WithBody = { body: Body, querystring: Query };

export const emailRoutes = ({ limit }: RouteDeps) => [
  defineRoute({
    method: 'POST', url: '/recover', schema: WithBody,
    handler: async (req) => {
      await limit(req.ctx, 'recover', email(req.body));
      await recover(req.ctx, req.body, redirectTarget(req.ctx, req.query.redirect_to));
      return {};
    },
  }),
  ...['/otp', '/magiclink'].map((url) => defineRoute({
    method: 'POST', url, schema: WithBody,
    handler: async (req) => {
      await limit(req.ctx, 'otp', email(req.body));
      const texted = textedNumber(req.body);
      if (texted) await limit(req.ctx, 'sms', texted);
      return sendOtp(req.ctx, req.body, redirectTarget(req.ctx, req.query.redirect_to));
    },
  })),
  defineRoute({
    method: 'POST', url: '/resend', schema: WithBody,
    handler: async (req) => {
      await limit(req.ctx, 'otp', email(req.body));
      const texted = textedNumber(req.body);
      if (texted) await limit(req.ctx, 'sms', texted);
      return resend(req.ctx, req.body, redirectTarget(req.ctx, req.query.redirect_to));
    },
  }),
  defineRoute({
    method: 'POST', url: '/verify', schema: { body: Body },
    handler: async (req) => {
      const body = req.body;
      const input = { type: body.type, token: body.token, tokenHash: body.token_hash, email: body.email, phone: body.phone };
      await limit(req.ctx, 'verify', verifyEmailOf(input));
      const result = await verify(req.ctx, input);
      return 'session' in result ? result.session : { code: result.code };
    },
  }),
  defineRoute({ method: 'GET', url: '/verify', schema: { querystring: Query }, handler: (req, reply) => verifyLink(req, reply, limit) }),
];

/** The link in a mail: every outcome is a redirect, failures in the fragment as GoTrue puts them. */
async function verifyLink(req: RouteRequest<{ querystring: typeof Query }>, reply: FastifyReply, limit: RouteDeps['limit']) {
  const ctx = req.ctx;
  const target = redirectTarget(ctx, req.query.redirect_to);
  try {
    await limit(ctx, 'verify');
    const result = await verify(ctx, { type: req.query.type, tokenHash: req.query.token });
    if ('session' in result) return redirect(reply, 303, `${target}#${sessionFragment(result.session, result.type)}`);
    const dest = new URL(redirectTarget(ctx, result.redirectTo ?? target));
    dest.searchParams.set('code', result.code);
    return redirect(reply, 303, dest.toString());
  } catch (e) {
    if (!(e instanceof BasaltError) || e.status >= 500) throw e;
    const description = e.code === 'otp_expired' ? 'Email link is invalid or has expired' : e.message;
    return redirect(reply, 303, `${target}#${errorFragment(e.status === 429 ? 'rate_limited' : 'access_denied', e.code, description)}`);
  }
}
