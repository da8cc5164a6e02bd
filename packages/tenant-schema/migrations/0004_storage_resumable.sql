-- Resumable (TUS) uploads in progress: what the final object will be and how far its bytes have come.
-- Only the storage service touches this table (as service_role); RLS is on with no policy for anyone else.
create table storage.resumable_uploads (
  id text primary key,
  bucket_id text not null references storage.buckets (id),
  name text not null,
  owner_id text,
  upsert boolean not null default false,
  content_type text not null,
  cache_control text not null,
  user_metadata jsonb,
  upload_length bigint not null check (upload_length >= 0),
  upload_offset bigint not null default 0,
  -- the object version the bytes are written to (<ref>/o/<version>), and for S3 the multipart upload and parts
  version text not null,
  s3_upload_id text,
  parts jsonb not null default '[]',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table storage.resumable_uploads enable row level security;
alter table storage.resumable_uploads owner to basalt_admin;
grant select, insert, update, delete on storage.resumable_uploads to service_role;
