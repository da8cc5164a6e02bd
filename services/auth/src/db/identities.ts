// SQL of auth.identities: how a user signs in (email, github, google, anonymous has none).
import type { Db } from './users.js';

export const identitiesDb = {
  async upsert(db: Db, userId: string, provider: string, providerId: string, data: Record<string, unknown>): Promise<void> {
    await db.query(
      `insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at)
       values ($1, $2, $3, $4, now())
       on conflict (provider_id, provider) do update set identity_data = excluded.identity_data,
         last_sign_in_at = now(), updated_at = now()`,
      [providerId, userId, data, provider],
    );
  },

  /** As upsert, answering whose the identity is: another user's when a concurrent sign-in linked it first. */
  async claim(db: Db, userId: string, provider: string, providerId: string, data: Record<string, unknown>): Promise<string> {
    const { rows } = await db.query<{ user_id: string }>(
      `insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at)
       values ($1, $2, $3, $4, now())
       on conflict (provider_id, provider) do update set identity_data = excluded.identity_data,
         last_sign_in_at = now(), updated_at = now()
       returning user_id`,
      [providerId, userId, data, provider],
    );
    return rows[0].user_id;
  },

  async find(db: Db, provider: string, providerId: string): Promise<{ user_id: string } | null> {
    const { rows } = await db.query<{ user_id: string }>(
      'select user_id from auth.identities where provider = $1 and provider_id = $2',
      [provider, providerId],
    );
    return rows[0] ?? null;
  },

  async setEmail(db: Db, userId: string, email: string): Promise<void> {
    await db.query(
      `update auth.identities set identity_data = identity_data || jsonb_build_object('email', $2::text), updated_at = now()
        where user_id = $1 and provider = 'email'`,
      [userId, email],
    );
  },

  async remove(db: Db, userId: string, id: string): Promise<void> {
    await db.query('delete from auth.identities where id = $1 and user_id = $2', [id, userId]);
  },

  async markEmailVerified(db: Db, userId: string): Promise<void> {
    await db.query(
      `update auth.identities set identity_data = identity_data || '{"email_verified": true}', updated_at = now()
        where user_id = $1 and provider = 'email'`,
      [userId],
    );
  },
};
