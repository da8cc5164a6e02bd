-- Logical backups of project databases and their stored objects, and the restores made from them. The files live
-- in the object store under backups/<ref>/<id>/ (`location`). A backup outlives nothing: it is deleted with its
-- files when its project's retention passes or the project is gone, so `ref` is not a foreign key.
create table platform.backups (
  id uuid primary key default gen_random_uuid(),
  ref text not null,
  kind text not null check (kind in ('nightly', 'manual')),
  status text not null default 'pending' check (status in ('pending', 'running', 'done', 'failed')),
  location text,
  db_bytes bigint,
  object_bytes bigint,
  object_count integer,
  error text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  -- refreshed while a replica works on it; a pending or running row whose heartbeat stops is failed by the scheduler
  heartbeat_at timestamptz not null default now()
);
create index backups_ref on platform.backups (ref, created_at desc);

create table platform.backup_restores (
  id uuid primary key default gen_random_uuid(),
  backup_id uuid not null references platform.backups (id) on delete cascade,
  target_ref text not null references platform.projects (ref) on delete cascade,
  status text not null default 'pending' check (status in ('pending', 'running', 'done', 'failed')),
  error text,
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  heartbeat_at timestamptz not null default now()
);
create index backup_restores_backup on platform.backup_restores (backup_id, created_at desc);

-- One job at a time per project: a backup of it, or a restore into it.
create unique index backups_one_active on platform.backups (ref) where status in ('pending', 'running');
create unique index backup_restores_one_active on platform.backup_restores (target_ref) where status in ('pending', 'running');
