-- Control plane: clusters that hold project databases, projects, custom domains, platform tokens.
create schema if not exists platform;

create table platform.clusters (
  id text primary key,
  -- a superuser (or CREATEDB + CREATEROLE) connection to the cluster, encrypted with BASALT_MASTER_KEY
  admin_url_enc text not null,
  created_at timestamptz not null default now()
);

create table platform.projects (
  ref text primary key check (ref ~ '^[a-z]{20}$'),
  name text not null check (length(name) between 1 and 256),
  status text not null default 'provisioning' check (status in ('provisioning', 'active', 'deleting')),
  cluster_id text not null references platform.clusters (id),
  db_name text not null unique,
  db_role text not null unique,
  db_password_enc text not null,
  jwt_secret_enc text not null,
  anon_key_enc text not null,
  service_key_enc text not null,
  settings jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table platform.custom_domains (
  domain text primary key check (domain = lower(domain)),
  ref text not null references platform.projects (ref) on delete cascade,
  created_at timestamptz not null default now()
);

create table platform.tokens (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  token_hash text not null unique,
  prefix text not null,
  project_refs text[],
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at timestamptz
);
