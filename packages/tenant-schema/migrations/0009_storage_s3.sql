-- S3 protocol multipart uploads in progress (CreateMultipartUpload … CompleteMultipartUpload): what the object will
-- be, and each part's bytes (stored under their own version key until the parts are joined). Only the storage
-- service touches these tables (as service_role); RLS is on with no policy for anyone else.
create table storage.s3_multipart_uploads (
  id text primary key,
  bucket_id text not null references storage.buckets (id),
  key text not null,
  owner_id text,
  content_type text not null,
  cache_control text not null,
  user_metadata jsonb,
  created_at timestamptz not null default now()
);
create index s3_multipart_uploads_bucket_key on storage.s3_multipart_uploads (bucket_id, key collate "C", created_at);

create table storage.s3_multipart_uploads_parts (
  upload_id text not null references storage.s3_multipart_uploads (id) on delete cascade,
  part_number int not null check (part_number between 1 and 10000),
  etag text not null,
  size bigint not null check (size >= 0),
  -- the part's bytes: <ref>/o/<version> in the backend
  version text not null,
  created_at timestamptz not null default now(),
  primary key (upload_id, part_number)
);
create index s3_multipart_uploads_parts_version on storage.s3_multipart_uploads_parts (version);

alter table storage.s3_multipart_uploads enable row level security;
alter table storage.s3_multipart_uploads_parts enable row level security;
alter table storage.s3_multipart_uploads owner to basalt_admin;
alter table storage.s3_multipart_uploads_parts owner to basalt_admin;
grant select, insert, update, delete on storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts to service_role;
