-- Cron jobs and their runs. The rows are the truth: Redis only carries runs to workers, so a Redis or
-- scheduler restart loses nothing, and unique (job_id, scheduled_at) makes each slot run at most once.
create table platform.cron_jobs (
  id uuid primary key default gen_random_uuid(),
  ref text not null references platform.projects (ref) on delete cascade,
  name text not null check (length(name) between 1 and 128),
  schedule text not null,
  target jsonb not null,
  timeout_ms integer not null default 30000 check (timeout_ms between 100 and 900000),
  paused boolean not null default false,
  next_run_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (ref, name)
);
create index cron_jobs_due on platform.cron_jobs (next_run_at) where not paused;

create table platform.cron_runs (
  id bigint generated always as identity primary key,
  job_id uuid not null references platform.cron_jobs (id) on delete cascade,
  scheduled_at timestamptz not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed', 'timed_out')),
  started_at timestamptz,
  finished_at timestamptz,
  duration_ms integer,
  error text,
  created_at timestamptz not null default now(),
  unique (job_id, scheduled_at)
);
create index cron_runs_job on platform.cron_runs (job_id, scheduled_at desc);
create index cron_runs_pending on platform.cron_runs (status) where status in ('queued', 'running');
