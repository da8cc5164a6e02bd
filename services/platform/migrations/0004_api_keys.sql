-- A project's opaque API keys, Supabase's publishable/secret pair: sb_publishable_… stands for the anon role and
-- may ship in apps; sb_secret_… stands for service_role and is refused from browsers. The gateway swaps either for
-- the project's own JWT of that role, so services never see them. Looked up by hash; sealed so it can be revealed.
create table platform.api_keys (
  id uuid primary key default gen_random_uuid(),
  ref text not null references platform.projects (ref) on delete cascade,
  type text not null check (type in ('publishable', 'secret')),
  name text not null check (length(name) between 1 and 64),
  description text,
  key_hash text not null unique,
  key_enc text not null,
  prefix text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (ref, name)
);
create index api_keys_ref on platform.api_keys (ref, created_at);
