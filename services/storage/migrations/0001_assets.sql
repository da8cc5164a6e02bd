-- Static assets of every project: which path serves which content-addressed blob (<ref>/a/<sha256> in the
-- storage backend), and each project's delivery settings. Rows go with the project.
create table platform.assets (
  ref text not null references platform.projects (ref) on delete cascade,
  path text not null,
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  size bigint not null,
  content_type text not null,
  updated_at timestamptz not null default now(),
  primary key (ref, path)
);
create index assets_blob on platform.assets (ref, sha256);

create table platform.asset_settings (
  ref text primary key references platform.projects (ref) on delete cascade,
  -- files without a content hash in their name
  cache_control text not null default 'public, max-age=3600',
  -- HTML documents (and the SPA fallback): revalidated so a deploy shows at once
  html_cache_control text not null default 'public, max-age=0, must-revalidate',
  -- unknown paths without a file extension answer /index.html (client-side routing)
  spa_fallback boolean not null default false,
  updated_at timestamptz not null default now()
);
