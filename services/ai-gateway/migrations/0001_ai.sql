-- The AI gateway's control-plane tables: per-project providers (credentials sealed with the master key), the
-- route table, AI keys (stored as hashes) and one usage row per request. Every row hangs off its project, so
-- deleting a project leaves nothing behind.
create table platform.ai_providers (
  id uuid primary key default gen_random_uuid(),
  ref text not null references platform.projects (ref) on delete cascade,
  name text not null check (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
  type text not null check (type in ('openai', 'anthropic', 'openai_compatible')),
  base_url text,
  api_key_enc text,
  timeout_ms integer check (timeout_ms between 100 and 900000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (ref, name)
);

-- The route table is replaced as a whole (PUT), so position is the order globs are tried in.
create table platform.ai_routes (
  ref text not null references platform.projects (ref) on delete cascade,
  position integer not null,
  model text not null,
  provider text not null,
  upstream_model text,
  fallbacks text[] not null default '{}',
  primary key (ref, position)
);

create table platform.ai_keys (
  id uuid primary key default gen_random_uuid(),
  ref text not null references platform.projects (ref) on delete cascade,
  name text not null check (length(name) between 1 and 128),
  key_hash text not null unique,
  prefix text not null,
  limits jsonb not null default '{}',
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index ai_keys_ref on platform.ai_keys (ref, created_at);

create table platform.ai_settings (
  ref text primary key references platform.projects (ref) on delete cascade,
  settings jsonb not null default '{}',
  updated_at timestamptz not null default now()
);

-- One row per request, written in batches off the request path; request_id makes a re-sent batch a no-op.
create table platform.ai_usage (
  id bigint generated always as identity primary key,
  ref text not null references platform.projects (ref) on delete cascade,
  request_id text not null,
  key_id uuid references platform.ai_keys (id) on delete set null,
  principal text not null check (principal in ('key', 'service_role', 'user')),
  user_id text,
  endpoint text not null,
  model text not null,
  provider text,
  upstream_model text,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  cached_tokens integer not null default 0,
  cache_write_tokens integer not null default 0,
  cost_usd numeric(18, 9) not null default 0,
  latency_ms integer,
  ttft_ms integer,
  status integer not null,
  error text,
  stream boolean not null default false,
  created_at timestamptz not null default now(),
  unique (ref, request_id)
);
create index ai_usage_ref_time on platform.ai_usage (ref, created_at);
