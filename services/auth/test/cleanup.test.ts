// The service cleans a project's auth tables as the project is used (what goes and what stays is told in detail by
// src/jobs/cleanup.test.ts): a request is all it takes for a day-old revoked refresh token to go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject, eventually } from '@basalt/testkit';
import { raw } from './helpers.js';

const p = await createProject('auth-cleanup');

test('requests to a project get its revoked refresh tokens cleaned up after a day; live ones stay', async () => {
  const [s] = await p.sql(`with u as (insert into auth.users (email, aud, role) values ('cleanup@example.com', 'authenticated', 'authenticated') returning id)
    insert into auth.sessions (user_id) select id from u returning id::text, user_id::text`);
  await p.sql(`insert into auth.refresh_tokens (token, user_id, session_id, revoked, created_at, updated_at) values
    ('cleanup-old', '${s.user_id}', '${s.id}', true, now() - interval '3 days', now() - interval '25 hours'),
    ('cleanup-live', '${s.user_id}', '${s.id}', false, now() - interval '3 days', now() - interval '3 days')`);
  assert.equal((await raw(p, '/settings')).status, 200);
  // the first request starts a run; a later one starts the next once the interval has passed
  const left = await eventually(async () => {
    await raw(p, '/settings');
    const rows = await p.sql<{ token: string }>(`select token from auth.refresh_tokens where token like 'cleanup-%' order by 1`);
    return rows.length === 1 ? rows : null;
  }, 30_000, 500);
  assert.deepEqual(left!.map((r) => r.token), ['cleanup-live']);
});
