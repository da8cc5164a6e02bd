// Auth emails: one template per type (overridable per project with GoTrue's template variables), sent through
// the project's SMTP server or, when it has none, written to the dev outbox the platform API lists.
import { createHash, randomInt } from 'node:crypto';
import { EgressError } from '@basalt/egress';
import type pg from 'pg';
import { sendSmtp } from '../clients/smtp.js';
import type { AuthContext } from '../context.js';
import { oneTimeTokensDb } from '../db/one-time-tokens.js';
import { outboxDb } from '../db/outbox.js';
import { authErrors } from '../errors.js';

export type MailType = 'signup' | 'recovery' | 'magiclink' | 'invite' | 'email_change' | 'reauthentication';

/** The one_time_tokens type behind each email. */
export const TOKEN_TYPE: Record<MailType, string> = {
  signup: 'confirmation_token',
  recovery: 'recovery_token',
  magiclink: 'magiclink_token',
  invite: 'invite_token',
  email_change: 'email_change_token_new',
  reauthentication: 'reauthentication_token',
};

const DEFAULTS: Record<MailType, { subject: string; body: string }> = {
  signup: { subject: 'Confirm Your Signup', body: '<h2>Confirm your signup</h2><p><a href="{{ .ConfirmationURL }}">Confirm your mail</a></p><p>Or enter the code: {{ .Token }}</p>' },
  invite: { subject: 'You have been invited', body: '<h2>You have been invited</h2><p><a href="{{ .ConfirmationURL }}">Accept the invite</a></p>' },
  magiclink: { subject: 'Your Magic Link', body: '<h2>Magic Link</h2><p><a href="{{ .ConfirmationURL }}">Log In</a></p><p>Or enter the code: {{ .Token }}</p>' },
  recovery: { subject: 'Reset Your Password', body: '<h2>Reset Password</h2><p><a href="{{ .ConfirmationURL }}">Reset Password</a></p><p>Or enter the code: {{ .Token }}</p>' },
  email_change: { subject: 'Confirm Email Change', body: '<h2>Confirm Change of Email</h2><p><a href="{{ .ConfirmationURL }}">Change Email</a> to {{ .NewEmail }}</p><p>Or enter the code: {{ .Token }}</p>' },
  reauthentication: { subject: 'Confirm Reauthentication', body: '<h2>Confirm reauthentication</h2><p>Enter the code: {{ .Token }}</p>' },
};

/** GoTrue's token_hash: hex SHA-224 of the address followed by the code. */
export const tokenHash = (email: string, otp: string) => createHash('sha224').update(email.toLowerCase() + otp).digest('hex');

export function newOtp(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += String(randomInt(10));
  return s;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface Issued {
  otp: string;
  hashedToken: string;
  actionLink: string;
}

/** Go's url.QueryEscape: everything but letters, digits and -_.~ is escaped, a space becomes +. */
const goQueryEscape = (v: string) =>
  encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');

/**
 * The link's query as GoTrue's getPath writes it: token and type escaped, and redirect_to left as given unless it
 * holds &, = or # (then escaped), so an already-encoded URL is not encoded twice (encodeRedirectURL).
 */
export function actionLinkQuery(token: string, type: string, redirectTo: string): string {
  const redirect = /[&=#]/.test(redirectTo) ? goQueryEscape(redirectTo) : redirectTo;
  return `token=${goQueryEscape(token)}&type=${goQueryEscape(type)}&redirect_to=${redirect}`;
}

/** Creates the one-time token for `type` and builds its link, without sending anything (generate_link). */
export async function issueLink(ctx: AuthContext, db: pg.PoolClient | pg.Pool, userId: string, type: MailType, email: string, redirectTo: string, pkce = false): Promise<Issued> {
  const otp = newOtp(ctx.settings.otp_length);
  const hashedToken = tokenHash(email, otp);
  await oneTimeTokensDb.put(db, userId, TOKEN_TYPE[type], hashedToken, email.toLowerCase());
  return { otp, hashedToken, actionLink: `${ctx.authUrl}/verify?${actionLinkQuery(pkce ? `pkce_${hashedToken}` : hashedToken, type, redirectTo)}` };
}

export async function sendAuthMail(ctx: AuthContext, db: pg.PoolClient | pg.Pool, m: { userId: string; type: MailType; to: string; redirectTo: string; newEmail?: string; pkce?: boolean }): Promise<Issued> {
  const issued = await issueLink(ctx, db, m.userId, m.type, m.to, m.redirectTo, m.pkce);
  const tpl = ctx.settings.templates[m.type] ?? DEFAULTS[m.type];
  const vars: Record<string, string> = {
    ConfirmationURL: issued.actionLink,
    Token: issued.otp,
    TokenHash: issued.hashedToken,
    SiteURL: ctx.settings.site_url ?? ctx.baseUrl,
    Email: m.to,
    NewEmail: m.newEmail ?? '',
    RedirectTo: m.redirectTo,
  };
  const fill = (s: string, html: boolean) => s.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, k: string) => (html ? escapeHtml(vars[k] ?? '') : vars[k] ?? ''));
  const msg = { to: m.to, subject: fill(tpl.subject, false), html: fill(tpl.body, true) };
  if (ctx.settings.smtp) {
    try {
      await sendSmtp(ctx.settings.smtp, msg, ctx.egress);
    } catch (e) {
      if (e instanceof EgressError) throw authErrors.egressBlocked('Error sending email: the project\'s SMTP host is not reachable', e);
      throw Object.assign(authErrors.providerFailed('Error sending email'), { cause: e });
    }
  } else {
    await outboxDb.add(db, { ...msg, type: m.type, actionLink: issued.actionLink, otp: issued.otp });
  }
  return issued;
}
