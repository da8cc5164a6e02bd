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

export type Amr = { method: string; timestamp: number }[];
/** The session's amr claim, newest first, for the session id `session` (an SQL expression). */
export const amrOf = (session: string) => `coalesce((select json_agg(json_build_object('method', authentication_method, 'timestamp',
  extract(epoch from updated_at)::bigint) order by updated_at desc) from auth.mfa_amr_claims where session_id = ${session}), '[]')`;

export const sessionsDb = {
  /** Locks the session a refresh token belongs to (NOWAIT: a busy lock is an error the caller retries). */
  async lockByRefresh(db: Db, hash: string): Promise<SessionRow | null> {
    const { rows } = await db.query<SessionRow>({
      name: 'auth_lock_session_by_refresh',
      text: `select s.id, s.user_id, s.aal, s.factor_id, s.not_after from auth.sessions s
         join auth.refresh_tokens rt on rt.session_id = s.id where rt.token = $1 for update of s nowait`,
      values: [hash],
    });
    return rows[0] ?? null;
  },

  /** After the lock: the presented token, the session's active token and its amr, in one round trip. */
  async refreshState(db: Db, hash: string, sessionId: string): Promise<{ presented: RefreshRow | null; active: RefreshRow | null; amr: Amr }> {
    const { rows } = await db.query({
      name: 'auth_refresh_state',
      text: `select (select row_to_json(t) from auth.refresh_tokens t where t.token = $1) as presented,
              (select row_to_json(a) from auth.refresh_tokens a where a.session_id = $2 and not a.revoked order by a.id desc limit 1) as active,
              ${amrOf('$2')} as amr`,
      values: [hash, sessionId],
    });
    const row = (r: Record<string, unknown> | null): RefreshRow | null => (r ? { ...(r as unknown as RefreshRow), id: String(r.id), updated_at: new Date(r.updated_at as string) } : null);
    return { presented: row(rows[0].presented), active: row(rows[0].active), amr: rows[0].amr };
  },

  /** Revokes the presented token (unless already revoked), adds the child, touches the session: one statement. */
  async rotate(db: Db, r: { presentedId: string; child: { hash: string; userId: string; sessionId: string; parent: string; sealed: string } | null }): Promise<void> {
    const c = r.child;
    await db.query({
      name: 'auth_rotate_refresh',
      text: `with revoked as (update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1 and not revoked),
            child as (insert into auth.refresh_tokens (token, user_id, session_id, parent, sealed) select $2, $3, $4, $5, $6 where $7)
       update auth.sessions set refreshed_at = now(), updated_at = now() where id = $4`,
      values: [r.presentedId, c?.hash ?? '', c?.userId ?? null, c?.sessionId ?? null, c?.parent ?? null, c?.sealed ?? null, c !== null],
    });
  },

  /** A new session with its first refresh token and amr entry, and the user's last_sign_in_at: one statement. */
  async start(db: Db, r: { userId: string; ip: string | null; userAgent: string | null; method: string; refreshHash: string }): Promise<{ id: string; ts: number }> {
    const { rows } = await db.query<{ id: string; ts: number }>({
      name: 'auth_start_session',
      text: `with s as (insert into auth.sessions (user_id, ip, user_agent) values ($1, $2::inet, $3) returning id, created_at),
            a as (insert into auth.mfa_amr_claims (session_id, authentication_method) select id, $4 from s),
            r as (insert into auth.refresh_tokens (token, user_id, session_id) select $5, $1, id from s),
            u as (update auth.users set last_sign_in_at = now() where id = $1)
       select id, extract(epoch from created_at)::bigint::int as ts from s`,
      values: [r.userId, r.ip && /^[0-9a-f.:]+$/i.test(r.ip) ? r.ip : null, r.userAgent, r.method, r.refreshHash],
    });
    return rows[0];
  },


  async exists(db: Db, id: string): Promise<boolean> {
    return ((await db.query('select 1 from auth.sessions where id = $1', [id])).rowCount ?? 0) > 0;
  },

  async setAal(db: Db, id: string, aal: string, factorId: string | null): Promise<void> {
    await db.query('update auth.sessions set aal = $2, factor_id = $3, updated_at = now() where id = $1', [id, aal, factorId]);
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
