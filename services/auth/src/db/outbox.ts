// SQL of the dev outbox: mail a project would have sent had it an SMTP server.
import type { Db } from './users.js';

export interface OutboxMessage {
  to: string;
  type: string;
  subject: string;
  html: string;
  actionLink: string | null;
  otp: string | null;
}

export const outboxDb = {
  async add(db: Db, m: OutboxMessage): Promise<void> {
    await db.query(
      'insert into auth.outbox (to_email, type, subject, html, action_link, otp) values ($1, $2, $3, $4, $5, $6)',
      [m.to, m.type, m.subject, m.html, m.actionLink, m.otp],
    );
  },

  async list(db: Db, opts: { email?: string; limit: number }) {
    const { rows } = await db.query(
      `select id::text, created_at, to_email as to, type, subject, html, action_link, otp from auth.outbox
        where ($1::text is null or lower(to_email) = lower($1)) order by id desc limit $2`,
      [opts.email ?? null, opts.limit],
    );
    return rows;
  },
};
