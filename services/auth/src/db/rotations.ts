// The common refresh, an active token rotated, with the refreshes waiting at the same moment rotated together: one
// statement (one round trip, one commit and one WAL flush) for up to 16 of them.
//
// A project's rotations go one statement at a time, and those arriving meanwhile wait for the next; a lone refresh
// still goes at once. Straight to Postgres, Postgres CPU per refresh was 347 µs one to a statement, 212 two, 147
// four, 116 eight and 104 sixteen. Through the fleet (bench/auth), 217 and 264 µs with one statement at a time,
// against 468 µs with up to four at once (the pool's size), where most statements carried one refresh and the
// four backends contended for the same index pages: Postgres's CPU per statement grows with the backends writing.
//
// Each rotation keeps the single statement's rules: lock the session first (SKIP LOCKED, so a batch never waits on
// another transaction's session lock, nor deadlocks with one), revoke the presented token only if it is still
// active (the UPDATE re-reads its newest version, so of two racing rotations exactly one revokes it), add the
// child, touch the session, and return the user, session and amr for the new access token. A token the batch
// does not rotate resolves null and its caller takes the locking path (domain/refresh.ts): an unknown, revoked or
// expired token, a deleted or banned user, a session another transaction holds, the same token twice in one batch
// (one of the two rotates it, the other finds its child there). A batch that fails resolves all of its refreshes
// null, so one refresh's failure is never another's: each then goes the locking path on its own.
import type pg from 'pg';
import { batchSize, coalesced } from '@basalt/db';
import { amrOf, type Amr } from './sessions.js';
import { selectUser, userFromJson, type UserRow } from './users.js';

export interface Rotated { user: UserRow; session: { id: string; aal: string }; amr: Amr }
export interface Rotation { hash: string; childHash: string; sealed: string }

/** The statement's sizes. A batch is padded up to the next one, so a connection prepares at most five statements. */
const SIZES = [1, 2, 4, 8, 16] as const;
const MAX_BATCH = SIZES[SIZES.length - 1];

// The input is a VALUES list, not unnest() of arrays: Postgres plans a prepared statement five times, then keeps
// its generic plan only if that costs no more than the custom ones, and the rows of unnest($1) are 10 to a generic
// plan but the array's own length to a custom one, so it kept planning anew, ~0.6 ms on every execution. A VALUES
// list has as many rows either way.
const statement = (size: number): pg.QueryConfig => ({
  name: `auth_rotate_active_refresh_${size}`,
  text: `with input (hash, child, sealed, n) as (values ${Array.from({ length: size }, (_, i) => `($${3 * i + 1}::text, $${3 * i + 2}::text, $${3 * i + 3}::text, ${i})`).join(', ')}),
    presented as (
      select rt.id, i.n from input i join auth.refresh_tokens rt on rt.token = i.hash
        join auth.sessions s on s.id = rt.session_id join auth.users pu on pu.id = s.user_id
       where not rt.revoked and (s.not_after is null or s.not_after > now())
         and pu.deleted_at is null and (pu.banned_until is null or pu.banned_until <= now())
         for update of s skip locked),
    revoked as (update auth.refresh_tokens rt set revoked = true, updated_at = now()
       from presented p where rt.id = p.id and not rt.revoked returning rt.session_id, rt.user_id, p.n),
    child as (insert into auth.refresh_tokens (token, user_id, session_id, parent, sealed)
       select i.child, r.user_id, r.session_id, i.hash, i.sealed from revoked r join input i on i.n = r.n),
    touched as (update auth.sessions set refreshed_at = now(), updated_at = now() where id in (select session_id from revoked)
       returning id, aal, user_id)
    select row_to_json(r) as r from (
      ${selectUser(`, t.id as session_id, t.aal as session_aal, ${amrOf('t.id')} as amr, rv.n`, 'touched t join revoked rv on rv.session_id = t.id join auth.users u on u.id = t.user_id')}) r`,
});
const STATEMENTS = new Map<number, pg.QueryConfig>(SIZES.map((size) => [size, statement(size)]));

async function rotateBatch(client: pg.PoolClient, batch: readonly Rotation[]): Promise<(Rotated | null)[]> {
  const size = batchSize(SIZES, batch.length);
  const values: string[] = [];
  for (let i = 0; i < size; i++) {
    const w = batch[i];
    // padding matches no token: stored hashes are 64 hex digits
    values.push(w?.hash ?? '', w?.childHash ?? '', w?.sealed ?? '');
  }
  const { rows } = await client.query<{ r: Record<string, unknown> }>({ ...STATEMENTS.get(size)!, values });
  const done = new Array<Rotated | null>(batch.length).fill(null);
  for (const { r } of rows) {
    const { session_id: id, session_aal: aal, amr, n, ...user } = userFromJson<{ session_id: string; session_aal: string; amr: Amr; n: number }>(r);
    done[n] = { user, session: { id, aal }, amr };
  }
  return done;
}

// one statement at a time per project database while it keeps up (see the top of this file)
const rotations = coalesced({ maxBatch: MAX_BATCH, workers: 1, run: rotateBatch });

/**
 * Rotates an active refresh token into the child `childHash` (see the top of this file); null when it is not simply
 * active, and the caller takes the locking path.
 */
export const rotateActive = (pool: pg.Pool, r: Rotation): Promise<Rotated | null> => rotations(pool, r);
