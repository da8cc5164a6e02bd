// Outbound mail through the project's own SMTP server (nodemailer). The host is a tenant's setting, so it is
// resolved and checked by the egress policy on every send, and nodemailer connects to that checked address
// (no second lookup that DNS rebinding could answer differently) while TLS still verifies the host name.
import net from 'node:net';
import nodemailer from 'nodemailer';
import { resolveAllowed, type EgressPolicy } from '@basalt/egress';
import type { AuthSettings } from '../domain/settings.js';

type Smtp = NonNullable<AuthSettings['smtp']>;

/** Throws EgressError, before any connection, when the SMTP host is not an allowed destination. */
export async function sendSmtp(smtp: Smtp, msg: { to: string; subject: string; html: string }, egress: EgressPolicy): Promise<void> {
  const { address } = await resolveAllowed(smtp.host, smtp.port, egress);
  const servername = net.isIP(smtp.host.replace(/^\[|\]$/g, '')) ? undefined : smtp.host;
  const transport = nodemailer.createTransport({
    host: address,
    port: smtp.port,
    secure: smtp.secure,
    ...(servername ? { servername, tls: { servername } } : {}),
    auth: smtp.user ? { user: smtp.user, pass: smtp.pass ?? '' } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  const from = smtp.sender_name ? `"${smtp.sender_name.replace(/"/g, '')}" <${smtp.admin_email}>` : smtp.admin_email;
  try {
    await transport.sendMail({ from, to: msg.to, subject: msg.subject, html: msg.html });
  } finally {
    transport.close();
  }
}
