// The cleanup of a project's auth tables against real Postgres on a scratch database with the tenant schema: what
// no longer counts goes, what still does stays, and a refresh token revoked within the day still gives its reuse
// away after a cleanup.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { beforeEach, test } from 'node:test';
import type { AuthContext } from '../context.js';
import { testDatabase } from '@basalt/testkit';
import { refreshSession } from '../domain/refresh.js';
import { AuthSettings } from '../domain/settings.js';
import { cleanProjectDatabase } from './cleanup.js';

const db = testDatabase('basalt_auth_cleanup_test');
// the sweep relies on token ids growing with created_at, which rows left by an earlier test would break
beforeEach(() => db.pool.query('truncate auth.users cascade'));

const hash = (t: string) => createHash('sha256').update(t).digest('hex');
const newToken = () => randomBytes(12).toString('hex');
const fresh = () => ({ after: '0' });

async function session(notAfter: string | null = null): Promise<{ userId: string; sessionId: string }> {
  const { rows: [u] } = await db.pool.query(`insert into auth.users (email, aud, role) values ($1, 'authenticated', 'authenticated') returning id`, [`${newToken()}@example.com`]);
  const { rows: [s] } = await db.pool.query('insert into auth.sessions (user_id, not_after) values ($1, now() - $2::interval) returning id', [u.id, notAfter]);
  return { userId: u.id, sessionId: s.id };
}

/** A refresh token made `created` ago, revoked `revoked` ago (or live); returns the token. */
async function refreshToken(s: { userId: string; sessionId: string }, created: string, revoked: string | null, parent: string | null = null): Promise<string> {
  const token = newToken();
  await db.pool.query(
    `insert into auth.refresh_tokens (token, user_id, session_id, parent, revoked, created_at, updated_at)
     values ($1, $2, $3, $4, $5, now() - $6::interval, now() - coalesce($7, $6)::interval)`,
    [hash(token), s.userId, s.sessionId, parent && hash(parent), revoked !== null, created, revoked],
  );
  return token;
}

async function present(tokens: string[]): Promise<string[]> {
  const { rows } = await db.pool.query('select token from auth.refresh_tokens where token = any($1)', [tokens.map(hash)]);
  return tokens.filter((t) => rows.some((r) => r.token === hash(t)));
}

const count = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0].n as number;

test('refresh tokens revoked more than 24 hours ago go; live ones and those revoked since stay', async () => {
  const s = await session();
  const revokedLongAgo = await refreshToken(s, '3 days', '25 hours');
  const liveOld = await refreshToken(s, '3 days', null);
  const revokedToday = await refreshToken(s, '2 days', '1 hour');
  const revokedJustNow = await refreshToken(s, '1 minute', '1 second');
  await cleanProjectDatabase(db.pool, fresh());
  assert.deepEqual(await present([revokedLongAgo, liveOld, revokedToday, revokedJustNow]), [liveOld, revokedToday, revokedJustNow]);
});

test('the sweep gets past a run of live tokens, going on from where the last run stopped', async () => {
  const s = await session();
  const live = [];
  for (let i = 0; i < 12; i++) live.push(await refreshToken(s, '3 days', null));
  const revoked = [await refreshToken(s, '3 days', '2 days'), await refreshToken(s, '3 days', '2 days')];
  const limits = { batch: 100, sessions: 10, scan: 5, rounds: 1 };
  const state = fresh();
  await cleanProjectDatabase(db.pool, state, limits);
  assert.deepEqual(await present(revoked), revoked, 'the first run examined only live tokens');
  for (let i = 0; i < 2; i++) await cleanProjectDatabase(db.pool, state, limits);
  assert.deepEqual(await present(revoked), []);
  assert.deepEqual(await present(live), live);
});

test('a refresh token revoked an hour ago, presented after a cleanup, is reuse: its session ends', async () => {
  const s = await session();
  const first = await refreshToken(s, '2 hours', '1 hour');
  const second = await refreshToken(s, '1 hour', '1 hour', first);
  await refreshToken(s, '1 hour', null, second);
  await cleanProjectDatabase(db.pool, fresh());
  const ctx = { db: db.pool, settings: AuthSettings.parse({}) } as unknown as AuthContext;
  await assert.rejects(refreshSession(ctx, first), { code: 'refresh_token_already_used' });
  assert.equal(await count('select count(*)::int as n from auth.sessions where id = $1', [s.sessionId]), 0, 'the token family is revoked');
});

test('a refresh token revoked more than a day ago is gone after a cleanup: not found, as in GoTrue', async () => {
  const s = await session();
  const old = await refreshToken(s, '3 days', '2 days');
  await refreshToken(s, '2 days', null, old);
  await cleanProjectDatabase(db.pool, fresh());
  const ctx = { db: db.pool, settings: AuthSettings.parse({}) } as unknown as AuthContext;
  await assert.rejects(refreshSession(ctx, old), { code: 'refresh_token_not_found' });
  assert.equal(await count('select count(*)::int as n from auth.sessions where id = $1', [s.sessionId]), 1);
});

test('sessions past not_after go with their refresh tokens; live sessions stay', async () => {
  const ended = await session('1 minute');
  const endedToken = await refreshToken(ended, '1 hour', null);
  const live = await session();
  const timeboxed = await session('-1 hour');
  await cleanProjectDatabase(db.pool, fresh());
  const { rows } = await db.pool.query('select id from auth.sessions');
  assert.deepEqual(rows.map((r) => r.id).sort(), [live.sessionId, timeboxed.sessionId].sort());
  assert.deepEqual(await present([endedToken]), []);
});

test('MFA challenges older than a day go; recent ones stay', async () => {
  const s = await session();
  const { rows: [f] } = await db.pool.query(`insert into auth.mfa_factors (user_id, factor_type, status) values ($1, 'totp', 'verified') returning id`, [s.userId]);
  const add = async (age: string) => (await db.pool.query('insert into auth.mfa_challenges (factor_id, created_at) values ($1, now() - $2::interval) returning id', [f.id, age])).rows[0].id as string;
  await add('25 hours');
  const recent = await add('10 minutes');
  await cleanProjectDatabase(db.pool, fresh());
  const { rows } = await db.pool.query('select id from auth.mfa_challenges');
  assert.deepEqual(rows.map((r) => r.id), [recent]);
});

test('expired flow states go: OAuth states past 10 minutes, codes past 5, email flows past a day; live ones stay', async () => {
  const s = await session();
  const flow = async (name: string, provider: string, created: string, codeIssued: string | null = null) => {
    await db.pool.query(
      `insert into auth.flow_state (provider_type, authentication_method, redirect_to, user_id, created_at, auth_code, auth_code_issued_at)
       values ($1, 'oauth', $2, $3, now() - $4::interval, case when $5::interval is not null then gen_random_uuid()::text end, now() - $5::interval)`,
      [provider, name, s.userId, created, codeIssued],
    );
  };
  await flow('oauth-expired', 'github', '11 minutes');
  await flow('code-expired', 'github', '8 minutes', '6 minutes');
  await flow('email-expired', 'email', '25 hours');
  await flow('email-code-expired', 'email', '2 hours', '6 minutes');
  await flow('oauth-live', 'github', '9 minutes');
  await flow('code-live', 'github', '9 minutes', '4 minutes');
  await flow('email-live', 'email', '23 hours');
  await cleanProjectDatabase(db.pool, fresh());
  const { rows } = await db.pool.query('select redirect_to from auth.flow_state order by redirect_to');
  assert.deepEqual(rows.map((r) => r.redirect_to), ['code-live', 'email-live', 'oauth-live']);
});
