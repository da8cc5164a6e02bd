// GET /user's read, the signed-in user with their session checked, for the users asking at the same moment in one
// statement (coalesced in @basalt/db): up to 16 to a round trip, up to 4 statements at once per project database.
// Through the fleet (bench/auth) each GET /user was a statement of its own: Postgres spent about 110 µs on each and
// the auth process about half its CPU writing them, one wake-up apiece.
// Each user is read as the single statement reads one: a batch answers every id it was given (a user or none), and
// one that fails sends each of its callers to that single statement, so its error is the caller's own.
import type pg from 'pg';
import { batchSize, coalesced } from '@basalt/db';
import { selectUser, userFromJson, usersDb, type Db, type UserRow } from './users.js';

export type CurrentUser = UserRow & { session_ok: boolean };
interface Lookup { id: string; sessionId: string | null }

const SIZES = [1, 2, 4, 8, 16] as const;
const MAX_BATCH = SIZES[SIZES.length - 1];
/** statements at once per project: reads do not contend, and the pool (4 connections) bounds them anyway */
const WORKERS = 4;

// a VALUES list (not unnest of arrays): its row count is the same to a generic plan as to a custom one, so the
// prepared statement keeps its generic plan (see rotations.ts)
const statement = (size: number): pg.QueryConfig => ({
  name: `auth_current_users_${size}`,
  text: `select row_to_json(r) as r from (values ${Array.from({ length: size }, (_, i) => `($${2 * i + 1}::uuid, $${2 * i + 2}::uuid, ${i})`).join(', ')}) as i (id, session, n)
    cross join lateral (${selectUser(`, exists (select 1 from auth.sessions s where s.id = i.session and s.user_id = u.id
      and (s.not_after is null or s.not_after > now())) as session_ok, i.n`)} where u.id = i.id) r`,
});
const STATEMENTS = new Map<number, pg.QueryConfig>(SIZES.map((size) => [size, statement(size)]));

async function lookupBatch(client: pg.PoolClient, batch: readonly Lookup[]): Promise<{ user: CurrentUser | null }[]> {
  const size = batchSize(SIZES, batch.length);
  const values: (string | null)[] = [];
  // padding is null, which matches no user
  for (let i = 0; i < size; i++) values.push(batch[i]?.id ?? null, batch[i]?.sessionId ?? null);
  const { rows } = await client.query<{ r: Record<string, unknown> }>({ ...STATEMENTS.get(size)!, values });
  const found = batch.map(() => ({ user: null as CurrentUser | null }));
  for (const { r } of rows) {
    const { n, ...user } = userFromJson<{ session_ok: boolean; n: number }>(r);
    found[n]!.user = user;
  }
  return found;
}

const lookups = coalesced({ maxBatch: MAX_BATCH, workers: WORKERS, run: lookupBatch });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The user `id` with whether `sessionId` is one of their live sessions (false without one), null when there is no
 * such user. From a pool it goes in the next batch; inside a transaction, or for an id or session that is not a
 * canonical UUID (which the batch's cast would refuse, failing its neighbours), as a statement of its own.
 */
export async function currentUser(db: Db, id: string, sessionId: string | null): Promise<CurrentUser | null> {
  if (!('release' in db) && UUID.test(id) && (sessionId === null || UUID.test(sessionId))) {
    const served = await lookups(db, { id, sessionId });
    if (served) return served.user;
  }
  return usersDb.byIdWithSession(db, id, sessionId);
}
