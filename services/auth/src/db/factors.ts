// SQL of MFA factors and their challenges. The TOTP secret is stored sealed (AES-256-GCM under the master key).
import type { Db } from './users.js';

export interface FactorSecretRow {
  id: string;
  user_id: string;
  friendly_name: string | null;
  factor_type: string;
  status: string;
  secret: string | null;
}

export const factorsDb = {
  async create(db: Db, userId: string, type: string, friendlyName: string | null, sealedSecret: string): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      'insert into auth.mfa_factors (user_id, factor_type, friendly_name, secret) values ($1, $2, $3, $4) returning id',
      [userId, type, friendlyName, sealedSecret],
    );
    return rows[0].id;
  },

  async get(db: Db, userId: string, id: string): Promise<FactorSecretRow | null> {
    const { rows } = await db.query<FactorSecretRow>('select id, user_id, friendly_name, factor_type, status, secret from auth.mfa_factors where id = $1 and user_id = $2', [id, userId]);
    return rows[0] ?? null;
  },

  async count(db: Db, userId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>('select count(*)::int as n from auth.mfa_factors where user_id = $1', [userId]);
    return rows[0].n;
  },

  /** In a transaction: serializes the user's enrollments (no key update: sign-ins inserting sessions are not held). */
  async lockUser(db: Db, userId: string): Promise<void> {
    await db.query('select 1 from auth.users where id = $1 for no key update', [userId]);
  },

  async removeExpiredUnverified(db: Db, userId: string, expirySeconds: number): Promise<void> {
    await db.query(
      `delete from auth.mfa_factors where user_id = $1 and status = 'unverified' and created_at < now() - make_interval(secs => $2)`,
      [userId, expirySeconds],
    );
  },

  async markVerified(db: Db, id: string): Promise<void> {
    await db.query(`update auth.mfa_factors set status = 'verified', updated_at = now() where id = $1`, [id]);
  },

  async remove(db: Db, userId: string, id: string): Promise<boolean> {
    return ((await db.query('delete from auth.mfa_factors where id = $1 and user_id = $2', [id, userId])).rowCount ?? 0) > 0;
  },

  async challenge(db: Db, factorId: string, ip: string | null): Promise<{ id: string; created_at: Date }> {
    await db.query('update auth.mfa_factors set last_challenged_at = now() where id = $1', [factorId]);
    const { rows } = await db.query<{ id: string; created_at: Date }>(
      'insert into auth.mfa_challenges (factor_id, ip_address) values ($1, $2::inet) returning id, created_at',
      [factorId, ip && /^[0-9a-f.:]+$/i.test(ip) ? ip : null],
    );
    return rows[0];
  },

  /** Takes an unverified challenge of the factor (a challenge is used once). */
  async takeChallenge(db: Db, factorId: string, id: string): Promise<{ created_at: Date } | null> {
    const { rows } = await db.query<{ created_at: Date }>(
      'update auth.mfa_challenges set verified_at = now() where id = $1 and factor_id = $2 and verified_at is null returning created_at',
      [id, factorId],
    );
    return rows[0] ?? null;
  },
};
