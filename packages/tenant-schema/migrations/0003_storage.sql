-- Storage metadata in every project database, with Supabase Storage's tables, columns and helper functions,
-- so RLS policies written for Supabase (storage.foldername(name), owner_id = auth.uid()::text) keep working.
-- The storage service runs every metadata statement as the caller's role: RLS on these tables is the
-- authorization model. No policy means anon and authenticated can do nothing; service_role bypasses RLS.

create type storage.buckettype as enum ('STANDARD', 'ANALYTICS');

create table storage.buckets (
  id text primary key,
  name text not null unique,
  owner uuid,
  owner_id text,
  public boolean not null default false,
  avif_autodetection boolean not null default false,
  file_size_limit bigint check (file_size_limit is null or file_size_limit >= 0),
  allowed_mime_types text[],
  type storage.buckettype not null default 'STANDARD',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text not null references storage.buckets (id),
  name text not null,
  owner uuid,
  owner_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_accessed_at timestamptz not null default now(),
  metadata jsonb,
  user_metadata jsonb,
  -- where the bytes are: the backend key is <ref>/o/<version>, so a name never becomes a path
  version text,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  unique (bucket_id, name)
);
-- prefix listing (name like 'folder/%') in byte order, whatever the database collation
create index objects_bucket_name_prefix on storage.objects (bucket_id, name collate "C");

create or replace function storage.touch_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;
create trigger buckets_updated_at before update on storage.buckets for each row execute function storage.touch_updated_at();
create trigger objects_updated_at before update on storage.objects for each row
  when (old.metadata is distinct from new.metadata or old.name is distinct from new.name or old.bucket_id is distinct from new.bucket_id)
  execute function storage.touch_updated_at();

-- Policy helpers, as in Supabase: foldername('a/b/c.png') = {a,b}, filename = 'c.png', extension = 'png'.
create or replace function storage.foldername(name text) returns text[] language sql immutable as $$
  select (string_to_array(name, '/'))[1:coalesce(array_length(string_to_array(name, '/'), 1), 1) - 1]
$$;
create or replace function storage.filename(name text) returns text language sql immutable as $$
  select (string_to_array(name, '/'))[array_length(string_to_array(name, '/'), 1)]
$$;
create or replace function storage.extension(name text) returns text language sql immutable as $$
  select case when storage.filename(name) like '%.%' then reverse(split_part(reverse(storage.filename(name)), '.', 1)) else '' end
$$;
create or replace function storage.get_size_by_bucket() returns table (size bigint, bucket_id text) language sql stable as $$
  select sum((metadata ->> 'size')::bigint)::bigint, bucket_id from storage.objects group by bucket_id
$$;

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;
grant select, insert, update, delete on storage.buckets, storage.objects to anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to basalt_admin;
grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text), storage.get_size_by_bucket()
  to anon, authenticated, service_role, basalt_admin;
-- The project's owner (the SQL API's role) owns the tables, so it can write policies on them, as in Supabase.
alter table storage.buckets owner to basalt_admin;
alter table storage.objects owner to basalt_admin;
