-- Edge functions: metadata, every deployed version's bundle, encrypted secrets and the invocation log.
create table platform.functions (
  ref text not null references platform.projects (ref) on delete cascade,
  slug text not null check (slug ~ '^[A-Za-z0-9_-]{1,128}$'),
  verify_jwt boolean not null default true,
  allow_service_role boolean not null default false,
  timeout_ms integer not null default 30000 check (timeout_ms between 100 and 400000),
  active_version integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (ref, slug)
);

create table platform.function_versions (
  ref text not null,
  slug text not null,
  version integer not null,
  code text not null,
  source jsonb not null,
  entrypoint text not null,
  created_at timestamptz not null default now(),
  primary key (ref, slug, version),
  foreign key (ref, slug) references platform.functions (ref, slug) on delete cascade
);

create table platform.function_secrets (
  ref text not null references platform.projects (ref) on delete cascade,
  name text not null,
  value_enc text not null,
  updated_at timestamptz not null default now(),
  primary key (ref, name)
);

create table platform.function_invocations (
  id bigint generated always as identity primary key,
  ref text not null,
  slug text not null,
  version integer not null,
  method text not null,
  status integer not null,
  duration_ms integer not null,
  logs text not null default '',
  error text,
  created_at timestamptz not null default now(),
  foreign key (ref, slug) references platform.functions (ref, slug) on delete cascade
);
create index function_invocations_recent on platform.function_invocations (ref, slug, id desc);
