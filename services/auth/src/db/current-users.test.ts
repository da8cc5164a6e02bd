// GET /user's reads coalesced into shared statements, against real Postgres on a scratch project database with the
// tenant schema: each caller gets their own user and session check whatever they are batched with, an unknown user
// is null without holding the others up, and what a batch cannot serve goes as a statement of its own.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { currentUser } from './current-users.js';
import { usersDb } from './users.js';
import { testDatabase } from '@basalt/testkit';

const db = testDatabase('basalt_current_users_test');

/** A user with an identity and one live session, and one ended session. */
async function user(): Promise<{ id: string; email: string; live: string; ended: string }> {
  const email = `${randomBytes(6).toString('hex')}@example.com`;
  const { rows: [u] } = await db.pool.query(`insert into auth.users (email, aud, role) values ($1, 'authenticated', 'authenticated') returning id`, [email]);
  await db.pool.query(`insert into auth.identities (provider_id, user_id, identity_data, provider) values ($1, $2, $3, 'email')`, [u.id, u.id, { sub: u.id, email }]);
  const { rows: [live] } = await db.pool.query('insert into auth.sessions (user_id) values ($1) returning id', [u.id]);
  const { rows: [ended] } = await db.pool.query(`insert into auth.sessions (user_id, not_after) values ($1, now() - interval '1 minute') returning id`, [u.id]);
  return { id: u.id, email, live: live.id, ended: ended.id };
}

test('forty reads at once on two connections: each gets its own user and session check, in fewer statements than reads', async () => {
  const users = await Promise.all(Array.from({ length: 20 }, () => user()));
  db.checkouts = 0;
  // each user twice: with their live session, and with the ended one
  const reads = users.flatMap((u) => [{ u, session: u.live, ok: true }, { u, session: u.ended, ok: false }]);
  const found = await Promise.all(reads.map((r) => currentUser(db.pool, r.u.id, r.session)));
  assert.ok(db.checkouts < reads.length, `${db.checkouts} db.checkouts for ${reads.length} reads`);
  for (const [i, r] of reads.entries()) {
    const got = found[i];
    assert.ok(got, `read ${i} found its user`);
    assert.equal(got.id, r.u.id);
    assert.equal(got.email, r.u.email);
    assert.equal(got.session_ok, r.ok, `read ${i}: session check`);
    assert.equal(got.identities.length, 1);
    assert.ok(got.created_at instanceof Date);
  }
});

test('a coalesced read answers exactly what the statement for one user answers', async () => {
  const u = await user();
  for (const session of [u.live, u.ended, null, randomUUID()]) {
    assert.deepEqual(await currentUser(db.pool, u.id, session), await usersDb.byIdWithSession(db.pool, u.id, session), String(session));
  }
});

test('an unknown user is null beside found ones; an id that is no UUID goes on its own and meets its own error', async () => {
  const u = await user();
  const [unknown, known, malformed] = await Promise.allSettled([
    currentUser(db.pool, randomUUID(), null),
    currentUser(db.pool, u.id, u.live),
    currentUser(db.pool, '------------------------------------', null),
  ]);
  assert.deepEqual(unknown, { status: 'fulfilled', value: null });
  assert.equal(known.status === 'fulfilled' && known.value?.session_ok, true);
  assert.equal(malformed.status, 'rejected');
  assert.match(String((malformed as PromiseRejectedResult).reason.message), /uuid/);
});

test('inside a transaction the read is the transaction’s own: it sees what the transaction wrote', async () => {
  const u = await user();
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    await client.query(`update auth.users set email = 'changed@example.com' where id = $1`, [u.id]);
    assert.equal((await currentUser(client, u.id, u.live))?.email, 'changed@example.com');
    await client.query('rollback');
  } finally {
    client.release();
  }
  assert.equal((await currentUser(db.pool, u.id, u.live))?.email, u.email);
});
