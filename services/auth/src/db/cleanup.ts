// SQL of the auth schema's cleanup (GoTrue's internal/models/cleanup.go): revoked refresh tokens, ended sessions
// and old MFA challenges, a small batch per statement. Rows another transaction holds are skipped, never waited
// for; a later pass takes them.
import type { Db } from './users.js';

/**
 * GoTrue keeps a revoked refresh token 24 hours: presenting it within that time is seen as reuse and ends its
 * session (the reuse interval is at most an hour, so a token deleted here is long past it).
 */
const KEEP_REVOKED = "interval '24 hours'";
/** A challenge expires after 5 minutes; GoTrue keeps it a day, answering "expired" rather than "not found". */
const KEEP_CHALLENGES = "interval '24 hours'";

export interface Sweep {
  /** the last refresh token id examined (a bigint, as text) */
  after: string;
  removed: number;
  /** false once the sweep reached tokens too young to be deletable, or the end: the next one starts over */
  more: boolean;
}

export const cleanupDb = {
  /**
   * Examines the `scan` refresh tokens after id `after` in primary-key order and deletes those revoked more than
   * 24 hours ago. It walks the key rather than searching by revoked or updated_at: an index on either would make
   * every rotation's revoke a non-HOT update (0013). Ids grow with created_at, and a token revoked a day ago was
   * created before that, so a sweep stops where the tokens become younger than a day.
   */
  async sweepRevokedRefresh(db: Db, after: string, scan: number): Promise<Sweep> {
    const { rows } = await db.query<Sweep>(
      `with scanned as (select id, created_at from auth.refresh_tokens where id > $1 order by id limit $2),
            gone as (delete from auth.refresh_tokens where id in (select id from auth.refresh_tokens
              where id in (select id from scanned) and revoked and updated_at < now() - ${KEEP_REVOKED}
              for update skip locked) returning 1)
       select coalesce(max(id), 0)::text as after, (select count(*) from gone)::int as removed,
         count(*) = $2 and max(created_at) < now() - ${KEEP_REVOKED} as more
       from scanned`,
      [after, scan],
    );
    return rows[0]!;
  },

  /** Sessions past not_after, with their refresh tokens and amr claims (cascade): few at a time for that reason. */
  async removeEndedSessions(db: Db, limit: number): Promise<number> {
    const r = await db.query(
      `delete from auth.sessions where id in (select id from auth.sessions where not_after < now()
         order by not_after limit $1 for update skip locked)`,
      [limit],
    );
    return r.rowCount ?? 0;
  },

  async removeOldChallenges(db: Db, limit: number): Promise<number> {
    const r = await db.query(
      `delete from auth.mfa_challenges where id in (select id from auth.mfa_challenges where created_at < now() - ${KEEP_CHALLENGES}
         order by created_at limit $1 for update skip locked)`,
      [limit],
    );
    return r.rowCount ?? 0;
  },
};
