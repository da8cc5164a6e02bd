// SQL of email links and codes (auth.one_time_tokens), one live token per user and purpose.
import type { Db } from './users.js';

export interface OneTimeTokenRow {
  id: string;
  user_id: string;
  token_type: string;
  token_hash: string;
  relates_to: string;
  created_at: Date;
}

export const oneTimeTokensDb = {
  async put(db: Db, userId: string, type: string, hash: string, relatesTo: string): Promise<void> {
    await db.query(
      `insert into auth.one_time_tokens (user_id, token_type, token_hash, relates_to) values ($1, $2, $3, $4)
       on conflict (user_id, token_type) do update set token_hash = excluded.token_hash, relates_to = excluded.relates_to,
         created_at = now(), updated_at = now()`,
      [userId, type, hash, relatesTo],
    );
  },

  /** Takes the token (deletes it) so a link works once; returns null when there is none of these types. */
  async take(db: Db, hash: string, types: string[]): Promise<OneTimeTokenRow | null> {
    const { rows } = await db.query<OneTimeTokenRow>(
      `delete from auth.one_time_tokens where id = (select id from auth.one_time_tokens
         where token_hash = $1 and token_type = any($2) order by created_at desc limit 1 for update) returning *`,
      [hash, types],
    );
    return rows[0] ?? null;
  },

  async forUser(db: Db, userId: string, type: string): Promise<OneTimeTokenRow | null> {
    const { rows } = await db.query<OneTimeTokenRow>('select * from auth.one_time_tokens where user_id = $1 and token_type = $2', [userId, type]);
    return rows[0] ?? null;
  },

  async recordFailure(db: Db, relatesTo: string, types: string[], max: number): Promise<void> {
    await db.query(
      `update auth.one_time_tokens set failed_attempts = failed_attempts + 1, updated_at = now()
        where relates_to = $1 and token_type = any($2)`,
      [relatesTo, types],
    );
    await db.query('delete from auth.one_time_tokens where relates_to = $1 and token_type = any($2) and failed_attempts >= $3', [relatesTo, types, max]);
  },

  async remove(db: Db, userId: string, type: string): Promise<void> {
    await db.query('delete from auth.one_time_tokens where user_id = $1 and token_type = $2', [userId, type]);
  },
};
