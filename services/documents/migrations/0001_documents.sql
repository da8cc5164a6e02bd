-- The documents service's control-plane tables: per-collection access rules, wire-protocol credentials
-- (SCRAM-SHA-256 salted keys only, never the password) and which projects hold TTL indexes (for the sweeper).
-- Every row hangs off its project, so deleting a project leaves nothing behind.
create table platform.documents_rules (
  ref text not null references platform.projects (ref) on delete cascade,
  collection text not null,
  rules jsonb not null,
  updated_at timestamptz not null default now(),
  primary key (ref, collection)
);

create table platform.documents_credentials (
  username text primary key,
  ref text not null references platform.projects (ref) on delete cascade,
  role text not null check (role in ('service_role')),
  salt bytea not null,
  iterations integer not null check (iterations >= 4096),
  stored_key bytea not null,
  server_key bytea not null,
  created_at timestamptz not null default now()
);
create index documents_credentials_ref on platform.documents_credentials (ref);

create table platform.documents_ttl (
  ref text primary key references platform.projects (ref) on delete cascade
);
