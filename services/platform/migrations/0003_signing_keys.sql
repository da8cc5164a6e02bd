-- A project's asymmetric JWT signing keys (Supabase's signing-keys model). At most one key is in use (it signs
-- new user tokens); standby keys are published ahead of use; previously used keys still verify the tokens they
-- signed; revoked keys verify nothing and may be deleted. The private JWK is sealed with the master key.
create table platform.signing_keys (
  id uuid primary key default gen_random_uuid(),
  ref text not null references platform.projects (ref) on delete cascade,
  algorithm text not null check (algorithm in ('ES256', 'RS256', 'EdDSA')),
  status text not null check (status in ('in_use', 'standby', 'previously_used', 'revoked')),
  public_jwk jsonb not null,
  private_jwk_enc text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index signing_keys_ref on platform.signing_keys (ref, created_at);
create unique index signing_keys_one_in_use on platform.signing_keys (ref) where status = 'in_use';
