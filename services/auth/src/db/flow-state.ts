// SQL of auth.flow_state: an OAuth or PKCE flow between its start and the code exchange.
import type { Db } from './users.js';

export interface FlowStateRow {
  id: string;
  user_id: string | null;
  auth_code: string | null;
  code_challenge_method: string | null;
  code_challenge: string | null;
  provider_type: string;
  provider_access_token: string | null;
  provider_refresh_token: string | null;
  authentication_method: string;
  redirect_to: string | null;
  created_at: Date;
  auth_code_issued_at: Date | null;
}

/** How long a flow may wait for its next step; past that it is refused, and deleted. */
export interface FlowLifetimes {
  /** an OAuth flow, from /authorize to /callback */
  oauthMs: number;
  /** an issued code, until its exchange */
  codeMs: number;
  /** an email flow, until its link is followed */
  emailMs: number;
}

export const flowStateDb = {
  async create(db: Db, f: { providerType: string; method: string; codeChallenge: string | null; codeChallengeMethod: string | null; redirectTo: string; userId?: string | null }): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `insert into auth.flow_state (provider_type, authentication_method, code_challenge, code_challenge_method, redirect_to, user_id)
       values ($1, $2, $3, $4, $5, $6) returning id`,
      [f.providerType, f.method, f.codeChallenge, f.codeChallengeMethod, f.redirectTo, f.userId ?? null],
    );
    return rows[0].id;
  },

  async byId(db: Db, id: string): Promise<FlowStateRow | null> {
    const { rows } = await db.query<FlowStateRow>('select * from auth.flow_state where id = $1', [id]);
    return rows[0] ?? null;
  },

  async issueCode(db: Db, id: string, userId: string, code: string, providerToken: string | null, providerRefresh: string | null): Promise<void> {
    await db.query(
      `update auth.flow_state set user_id = $2, auth_code = $3, auth_code_issued_at = now(), provider_access_token = $4,
         provider_refresh_token = $5, updated_at = now() where id = $1`,
      [id, userId, code, providerToken, providerRefresh],
    );
  },

  /** Takes the flow for an auth code (deletes it), so a code is exchanged at most once. */
  async takeByCode(db: Db, code: string): Promise<FlowStateRow | null> {
    const { rows } = await db.query<FlowStateRow>('delete from auth.flow_state where auth_code = $1 returning *', [code]);
    return rows[0] ?? null;
  },

  async remove(db: Db, id: string): Promise<void> {
    await db.query('delete from auth.flow_state where id = $1', [id]);
  },

  /**
   * Deletes up to `limit` expired flows, oldest first, through flow_state_created_at_idx: every expired flow is
   * older than the shortest lifetime (a code is issued after its flow began). Rows another transaction holds wait
   * for a later pass.
   */
  async removeExpired(db: Db, l: FlowLifetimes, limit: number): Promise<number> {
    const secs = (ms: number) => ms / 1000;
    const r = await db.query(
      `delete from auth.flow_state where id in (select id from auth.flow_state
         where created_at < now() - make_interval(secs => $4)
           and case when auth_code is not null then auth_code_issued_at < now() - make_interval(secs => $2)
                    when provider_type = 'email' then created_at < now() - make_interval(secs => $3)
                    else created_at < now() - make_interval(secs => $1) end
         order by created_at limit $5 for update skip locked)`,
      [secs(l.oauthMs), secs(l.codeMs), secs(l.emailMs), secs(Math.min(l.oauthMs, l.codeMs, l.emailMs)), limit],
    );
    return r.rowCount ?? 0;
  },
};

/** The latest email flow of a user still waiting for its link to be followed (PKCE email links). */
export async function pendingEmailFlow(db: Db, userId: string): Promise<FlowStateRow | null> {
  const { rows } = await db.query<FlowStateRow>(
    `select * from auth.flow_state where user_id = $1 and provider_type = 'email' and auth_code is null
      order by created_at desc limit 1`,
    [userId],
  );
  return rows[0] ?? null;
}
