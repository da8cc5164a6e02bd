// Rotations coalesced into shared statements, against real Postgres on a scratch project database with the tenant
// schema: each refresh gets its own child and user whatever it is batched with, a token the batch must not rotate
// comes back null (for the locking path) without holding the others up, and a failed batch fails none of them.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { eventually } from '@basalt/testkit';
import pg from 'pg';
import { rotateActive, type Rotation } from './rotations.js';
import { testDatabase } from '@basalt/testkit';

const db = testDatabase('basalt_rotations_test');

const hash = (t: string) => createHash('sha256').update(t).digest('hex');
const newToken = () => randomBytes(12).toString('hex');

/** A user with one session whose active refresh token is returned. */
async function session(email = `${newToken()}@example.com`): Promise<{ token: string; userId: string; sessionId: string; email: string }> {
  const { rows: [u] } = await db.pool.query(`insert into auth.users (email, aud, role) values ($1, 'authenticated', 'authenticated') returning id`, [email]);
  const { rows: [s] } = await db.pool.query('insert into auth.sessions (user_id) values ($1) returning id', [u.id]);
  const token = newToken();
  await db.pool.query('insert into auth.refresh_tokens (token, user_id, session_id) values ($1, $2, $3)', [hash(token), u.id, s.id]);
  return { token, userId: u.id, sessionId: s.id, email };
}

const rotation = (token: string, child = newToken()): Rotation & { child: string } => ({ hash: hash(token), childHash: hash(child), sealed: `sealed:${child}`, child });

async function activeTokens(sessionId: string): Promise<string[]> {
  const { rows } = await db.pool.query('select token from auth.refresh_tokens where session_id = $1 and not revoked order by id', [sessionId]);
  return rows.map((r) => r.token);
}

test('forty refreshes at once on two connections: each rotates its own token, in fewer statements than refreshes', async () => {
  const sessions = await Promise.all(Array.from({ length: 40 }, () => session()));
  db.checkouts = 0;
  const rotations = sessions.map((s) => rotation(s.token));
  const results = await Promise.all(rotations.map((r) => rotateActive(db.pool, r)));
  assert.ok(db.checkouts < 40, `${db.checkouts} db.checkouts for 40 refreshes`);
  for (const [i, s] of sessions.entries()) {
    const r = results[i];
    assert.ok(r, `refresh ${i} rotated`);
    assert.equal(r.user.id, s.userId);
    assert.equal(r.user.email, s.email);
    assert.equal(r.session.id, s.sessionId);
    assert.equal(r.session.aal, 'aal1');
    assert.deepEqual(r.amr, []);
    assert.ok(r.user.created_at instanceof Date, 'timestamps come back as dates');
    assert.deepEqual(await activeTokens(s.sessionId), [rotations[i]!.childHash], `session ${i} holds exactly its child`);
  }
  const { rows } = await db.pool.query('select parent, sealed from auth.refresh_tokens where token = $1', [rotations[0]!.childHash]);
  assert.deepEqual(rows[0], { parent: hash(sessions[0]!.token), sealed: `sealed:${rotations[0]!.child}` });
});

test('in one batch, tokens not simply active come back null and the others rotate', async () => {
  const fine = await session();
  const unknown = newToken();
  const revoked = await session();
  await db.pool.query('update auth.refresh_tokens set revoked = true where token = $1', [hash(revoked.token)]);
  const banned = await session();
  await db.pool.query(`update auth.users set banned_until = now() + interval '1 hour' where id = $1`, [banned.userId]);
  const expired = await session();
  await db.pool.query(`update auth.sessions set not_after = now() - interval '1 second' where id = $1`, [expired.sessionId]);
  const twice = await session();
  const also = await session();

  // a third connection holds one session's lock, as the locking path of another refresh would
  const holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  const held = await session();
  await holder.query('begin');
  await holder.query('select 1 from auth.sessions where id = $1 for update', [held.sessionId]);
  try {
    // both connections busy first, so the ten below queue and go out together
    const busy = [db.pool.query('select pg_sleep(0.2)'), db.pool.query('select pg_sleep(0.2)')];
    db.checkouts = 0;
    const names = ['fine', 'unknown', 'revoked', 'banned', 'expired', 'twice#1', 'twice#2', 'held', 'also'] as const;
    const tokens = [fine.token, unknown, revoked.token, banned.token, expired.token, twice.token, twice.token, held.token, also.token];
    const results = await Promise.all(tokens.map((t) => rotateActive(db.pool, rotation(t))));
    await Promise.all(busy);
    const got = Object.fromEntries(names.map((n, i) => [n, results[i]?.session.id ?? null]));
    assert.equal(got.fine, fine.sessionId);
    assert.equal(got.also, also.sessionId);
    assert.equal(got.unknown, null);
    assert.equal(got.revoked, null);
    assert.equal(got.banned, null);
    assert.equal(got.expired, null);
    assert.equal(got.held, null, 'a session another transaction holds is skipped, not waited for');
    assert.deepEqual([got['twice#1'], got['twice#2']].filter(Boolean), [twice.sessionId], 'the same token twice rotates once');
    assert.equal((await activeTokens(twice.sessionId)).length, 1);
    assert.deepEqual(await activeTokens(held.sessionId), [hash(held.token)], 'the held session is untouched');
    assert.deepEqual(await activeTokens(banned.sessionId), [hash(banned.token)]);
  } finally {
    await holder.query('rollback');
    await holder.end();
  }
});

test('a batch that fails resolves every refresh in it null and rotates none of them', async () => {
  const a = await session();
  const b = await session();
  const existing = await session();
  const busy = [db.pool.query('select pg_sleep(0.2)'), db.pool.query('select pg_sleep(0.2)')];
  // b's child hash is a token that exists: the insert breaks the unique key and the whole statement rolls back
  const results = await Promise.all([
    rotateActive(db.pool, rotation(a.token)),
    rotateActive(db.pool, { hash: hash(b.token), childHash: hash(existing.token), sealed: 'x' }),
  ]);
  await Promise.all(busy);
  assert.deepEqual(results, [null, null]);
  assert.deepEqual(await activeTokens(a.sessionId), [hash(a.token)]);
  assert.deepEqual(await activeTokens(b.sessionId), [hash(b.token)]);
  // and a later refresh of the same token rotates it. The failed batch's connection was closed rather than given
  // back, and its backend may still hold a's session lock for a moment (which a batch skips: null, the caller's own
  // path); so "later" is once that backend has gone
  const again = await eventually(() => rotateActive(db.pool, rotation(a.token)));
  assert.equal(again?.session.id, a.sessionId);
});
