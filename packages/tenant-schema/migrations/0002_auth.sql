-- The auth service's tables in every project database, with Supabase Auth's column names where they exist,
-- so RLS policies and SQL written for Supabase (auth.uid(), joins on auth.users) keep working.
-- Tokens (refresh, one-time, MFA) are stored only as SHA-256 hashes: a leaked table yields nothing usable.

create table auth.users (
  instance_id uuid,
  id uuid primary key default gen_random_uuid(),
  aud varchar(255) not null default 'authenticated',
  role varchar(255) not null default 'authenticated',
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_sent_at timestamptz,
  recovery_sent_at timestamptz,
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb not null default '{}'::jsonb,
  raw_user_meta_data jsonb not null default '{}'::jsonb,
  is_super_admin boolean,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  phone text unique,
  phone_confirmed_at timestamptz,
  phone_change text default '',
  phone_change_sent_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  banned_until timestamptz,
  reauthentication_sent_at timestamptz,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false
);
-- One account per address, case-insensitively (Supabase's users_email_partial_key).
create unique index users_email_partial_key on auth.users (lower(email)) where email is not null and is_sso_user = false;
create index users_created_at_idx on auth.users (created_at, id);

create table auth.identities (
  provider_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid primary key default gen_random_uuid(),
  unique (provider_id, provider)
);
create index identities_user_id_idx on auth.identities (user_id);

create table auth.sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  factor_id uuid,
  aal text not null default 'aal1' check (aal in ('aal1', 'aal2', 'aal3')),
  not_after timestamptz,
  refreshed_at timestamp,
  user_agent text,
  ip inet,
  tag text
);
create index sessions_user_id_idx on auth.sessions (user_id);

-- `token` holds the SHA-256 of the refresh token and `parent` the parent's hash. `sealed` is the token itself,
-- encrypted under a key derived from its parent token: only a client holding the parent can recover it, which
-- lets a retried refresh get the same child back (GoTrue's "client failed to save the last response" rule)
-- without keeping a usable token in the database.
create table auth.refresh_tokens (
  instance_id uuid,
  id bigserial primary key,
  token varchar(255) not null unique,
  user_id uuid not null references auth.users (id) on delete cascade,
  revoked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  parent varchar(255),
  session_id uuid not null references auth.sessions (id) on delete cascade,
  sealed text
);
create index refresh_tokens_session_id_revoked_idx on auth.refresh_tokens (session_id, revoked);
create index refresh_tokens_parent_idx on auth.refresh_tokens (parent);

-- How a session was authenticated, for the `amr` claim.
create table auth.mfa_amr_claims (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null references auth.sessions (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  authentication_method text not null,
  unique (session_id, authentication_method)
);

create table auth.mfa_factors (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  friendly_name text,
  factor_type text not null check (factor_type in ('totp', 'phone', 'webauthn')),
  status text not null default 'unverified' check (status in ('unverified', 'verified')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  secret text,
  phone text,
  last_challenged_at timestamptz
);
create unique index mfa_factors_user_friendly_name_unique on auth.mfa_factors (user_id, friendly_name) where friendly_name is not null and friendly_name <> '';
create index mfa_factors_user_id_idx on auth.mfa_factors (user_id);

create table auth.mfa_challenges (
  id uuid primary key default gen_random_uuid(),
  factor_id uuid not null references auth.mfa_factors (id) on delete cascade,
  created_at timestamptz not null default now(),
  verified_at timestamptz,
  ip_address inet,
  otp_code text
);

-- Email links and codes: token_hash = sha256(email || code) as hex, as GoTrue's token_hash links carry.
create table auth.one_time_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  token_type text not null check (token_type in ('confirmation_token', 'reauthentication_token', 'recovery_token',
    'email_change_token_new', 'email_change_token_current', 'phone_change_token', 'magiclink_token', 'invite_token')),
  token_hash text not null,
  relates_to text not null,
  failed_attempts int not null default 0,
  -- timestamptz (Supabase: timestamp): expiry is computed in the service, whatever the server's TimeZone.
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, token_type)
);
create index one_time_tokens_token_hash_idx on auth.one_time_tokens using hash (token_hash);

-- OAuth and PKCE flows between /authorize (or an email link) and /callback or /token?grant_type=pkce.
create table auth.flow_state (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete cascade,
  auth_code text,
  code_challenge_method text,
  code_challenge text,
  provider_type text not null,
  provider_access_token text,
  provider_refresh_token text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  authentication_method text not null,
  auth_code_issued_at timestamptz,
  redirect_to text,
  session_data jsonb
);
create index flow_state_auth_code_idx on auth.flow_state (auth_code);

-- Mail the project would have sent, when it has no SMTP server configured (listed by the platform API).
create table auth.outbox (
  id bigserial primary key,
  created_at timestamptz not null default now(),
  to_email text not null,
  type text not null,
  subject text not null,
  html text not null,
  action_link text,
  otp text
);

create or replace function auth.email() returns text language sql stable as $$
  select nullif(coalesce(current_setting('request.jwt.claim.email', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'email'), '')::text
$$;
grant execute on function auth.email() to anon, authenticated, service_role, basalt_admin;

grant all on all tables in schema auth to basalt_admin;
grant all on all sequences in schema auth to basalt_admin;
-- As in Supabase: the service role (and the project owner through SQL) may read the user directory;
-- anon and authenticated may not, so policies use auth.uid()/auth.jwt() rather than reading auth.users.
grant select on auth.users, auth.identities to service_role;
