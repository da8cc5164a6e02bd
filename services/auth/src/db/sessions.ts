// SQL of sessions and their refresh-token chains. Refresh tokens are stored as SHA-256 hashes.
import type { Db } from './users.js';

export interface SessionRow {
  id: string;
  user_id: string;
  aal: string;
  factor_id: string | null;
  not_after: Date | null;
}

export interface RefreshRow {
  id: string;
  token: string;
  user_id: string;
  revoked: boolean;
  updated_at: Date;
  parent: string | null;
  session_id: string;
  sealed: string | null;
}

export const sessionsDb = {
  async create(db: Db, userId: string, ip: string | null, userAgent: string | null): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `insert into auth.sessions (user_id, ip, user_agent) values ($1, $2::inet, $3) returning id`,
      [userId, ip && /^[0-9a-f.:]+$/i.test(ip) ? ip : null, userAgent],
    );
    return rows[0].id;
  },

  async lock(db: Db, id: string): Promise<SessionRow | null> {
    const { rows } = await db.query<SessionRow>(
      'select id, user_id, aal, factor_id, not_after from auth.sessions where id = $1 for update nowait',
      [id],
    );
    return rows[0] ?? null;
  },

  async exists(db: Db, id: string): Promise<boolean> {
    return ((await db.query('select 1 from auth.sessions where id = $1', [id])).rowCount ?? 0) > 0;
  },

  async setAal(db: Db, id: string, aal: string, factorId: string | null): Promise<void> {
    await db.query('update auth.sessions set aal = $2, factor_id = $3, updated_at = now() where id = $1', [id, aal, factorId]);
  },

  async touch(db: Db, id: string): Promise<void> {
    await db.query('update auth.sessions set refreshed_at = now(), updated_at = now() where id = $1', [id]);
  },

  async addAmr(db: Db, sessionId: string, method: string): Promise<void> {
    await db.query(
      `insert into auth.mfa_amr_claims (session_id, authentication_method) values ($1, $2)
       on conflict (session_id, authentication_method) do update set updated_at = now()`,
      [sessionId, method],
    );
  },

  async amr(db: Db, sessionId: string): Promise<{ method: string; timestamp: number }[]> {
    const { rows } = await db.query<{ method: string; timestamp: number }>(
      `select authentication_method as method, extract(epoch from updated_at)::bigint::int as timestamp
         from auth.mfa_amr_claims where session_id = $1 order by updated_at desc`,
      [sessionId],
    );
    return rows;
  },

  async remove(db: Db, id: string): Promise<void> {
    await db.query('delete from auth.sessions where id = $1', [id]);
  },

  /** scope: global = every session of the user, others = all but `keep`. */
  async removeForUser(db: Db, userId: string, keep: string | null): Promise<void> {
    await db.query('delete from auth.sessions where user_id = $1 and ($2::uuid is null or id <> $2)', [userId, keep]);
  },

  async insertRefresh(db: Db, r: { hash: string; userId: string; sessionId: string; parent: string | null; sealed: string | null }): Promise<void> {
    await db.query(
      `insert into auth.refresh_tokens (token, user_id, session_id, parent, sealed) values ($1, $2, $3, $4, $5)`,
      [r.hash, r.userId, r.sessionId, r.parent, r.sealed],
    );
  },

  async findRefresh(db: Db, hash: string): Promise<RefreshRow | null> {
    const { rows } = await db.query<RefreshRow>('select * from auth.refresh_tokens where token = $1', [hash]);
    return rows[0] ?? null;
  },

  async activeRefresh(db: Db, sessionId: string): Promise<RefreshRow | null> {
    const { rows } = await db.query<RefreshRow>(
      'select * from auth.refresh_tokens where session_id = $1 and not revoked order by id desc limit 1',
      [sessionId],
    );
    return rows[0] ?? null;
  },

  async revokeRefresh(db: Db, id: string): Promise<void> {
    await db.query('update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1', [id]);
  },
};
