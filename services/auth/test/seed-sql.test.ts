// SQL written for Supabase runs unchanged: the usual seed script (auth.users with GoTrue's token columns and a
// pgcrypto bcrypt hash, plus its identity) creates a user who then signs in with supabase-js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProject } from '@basalt/testkit';
import { client } from './helpers.js';

const p = await createProject('auth-seed');

test('a Supabase seed script inserts a user who can sign in', async () => {
  const email = `seeded-${Math.random().toString(36).slice(2, 8)}@example.com`;
  await p.sql(`
    do $$
    declare uid uuid := gen_random_uuid();
    begin
      insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, recovery_sent_at,
        last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, confirmation_token, email_change,
        email_change_token_new, recovery_token)
      values ('00000000-0000-0000-0000-000000000000', uid, 'authenticated', 'authenticated', '${email}',
        crypt('seed-password-1', gen_salt('bf')), now(), now(), now(), '{"provider":"email","providers":["email"]}',
        '{"name":"Seeded"}', now(), now(), '', '', '', '');
      insert into auth.identities (id, user_id, provider_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
      values (gen_random_uuid(), uid, uid::text, format('{"sub":"%s","email":"%s"}', uid, '${email}')::jsonb, 'email', now(), now(), now());
    end $$;`);
  const cols = await p.sql<{ column_name: string }>(`select column_name from information_schema.columns where table_schema = 'auth' and table_name = 'users'
    and column_name in ('confirmation_token', 'recovery_token', 'email_change_token_new', 'email_change_token_current',
      'email_change_confirm_status', 'phone_change_token', 'reauthentication_token') order by 1`);
  assert.equal(cols.length, 7);
  const { data, error } = await client(p).auth.signInWithPassword({ email, password: 'seed-password-1' });
  assert.equal(error, null);
  assert.equal(data.user?.email, email);
  assert.equal(data.user?.user_metadata.name, 'Seeded');
  assert.equal((await client(p).auth.signInWithPassword({ email, password: 'wrong-password-1' })).error?.code, 'invalid_credentials');
});
