-- Plans: named sets of quotas (null = unlimited). A project has one; the registry reads its quotas with the project,
-- so every service enforces the plan it is on now. free/pro/business are modelled on Supabase's and ichibase's
-- tiers; `unlimited` (every quota null) is what self-hosted installs give new projects unless BASALT_DEFAULT_PLAN
-- says otherwise. Operators edit these and add their own with PUT /platform/v1/plans/{name}.
create table platform.plans (
  name text primary key check (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  quotas jsonb not null default '{}' check (jsonb_typeof(quotas) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

insert into platform.plans (name, quotas) values
  ('unlimited', '{}'),
  ('free', '{
    "db_bytes": 524288000, "storage_bytes": 1073741824, "max_object_bytes": 52428800,
    "db_connections": 60, "statement_timeout_ms": 8000,
    "realtime_connections": 200, "realtime_messages_per_second": 100,
    "fn_invocations_per_day": 20000, "fn_cpu_ms": 2000, "fn_wall_ms": 150000,
    "ai_tokens_per_day": 100000, "memory_count": 10000, "requests_per_second": 100,
    "backup_retention_days": 1, "sleep_after_s": 604800}'),
  ('pro', '{
    "db_bytes": 8589934592, "storage_bytes": 107374182400, "max_object_bytes": 536870912000,
    "db_connections": 120, "statement_timeout_ms": 60000,
    "realtime_connections": 500, "realtime_messages_per_second": 500,
    "fn_invocations_per_day": 1000000, "fn_cpu_ms": 2000, "fn_wall_ms": 400000,
    "ai_tokens_per_day": 2000000, "memory_count": 1000000, "requests_per_second": 1000,
    "backup_retention_days": 7, "sleep_after_s": null}'),
  ('business', '{
    "db_bytes": 107374182400, "storage_bytes": 1099511627776, "max_object_bytes": 536870912000,
    "db_connections": 240, "statement_timeout_ms": 120000,
    "realtime_connections": 10000, "realtime_messages_per_second": 2500,
    "fn_invocations_per_day": 10000000, "fn_cpu_ms": 10000, "fn_wall_ms": 400000,
    "ai_tokens_per_day": 20000000, "memory_count": null, "requests_per_second": 5000,
    "backup_retention_days": 30, "sleep_after_s": null}');

-- Existing projects keep running as they did: unlimited. New ones get the configured default plan.
alter table platform.projects
  add column plan text not null default 'unlimited' references platform.plans (name) on update cascade,
  -- the quota that made the platform turn the project's database read-only (`db_bytes`), null while writable
  add column read_only_reason text;
create index projects_plan on platform.projects (plan);
