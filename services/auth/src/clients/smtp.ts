// Outbound mail through the project's own SMTP server (nodemailer), one transport per settings object.
import nodemailer, { type Transporter } from 'nodemailer';
import type { AuthSettings } from '../domain/settings.js';

type Smtp = NonNullable<AuthSettings['smtp']>;
const transports = new WeakMap<Smtp, Transporter>();

export async function sendSmtp(smtp: Smtp, msg: { to: string; subject: string; html: string }): Promise<void> {
  let t = transports.get(smtp);
  if (!t) {
    t = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      auth: smtp.user ? { user: smtp.user, pass: smtp.pass ?? '' } : undefined,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
    transports.set(smtp, t);
  }
  const from = smtp.sender_name ? `"${smtp.sender_name.replace(/"/g, '')}" <${smtp.admin_email}>` : smtp.admin_email;
  await t.sendMail({ from, to: msg.to, subject: msg.subject, html: msg.html });
}
