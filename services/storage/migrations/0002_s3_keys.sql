-- S3 protocol access keys of every project (POST /platform/v1/projects/{ref}/storage/s3-keys): the secret is kept
-- sealed under BASALT_MASTER_KEY (SigV4 needs it back to verify), never returned after it is issued. Rows go
-- with the project.
create table platform.storage_s3_keys (
  access_key_id text primary key,
  ref text not null references platform.projects (ref) on delete cascade,
  secret_sealed text not null,
  description text not null default '',
  created_at timestamptz not null default now()
);
create index storage_s3_keys_ref on platform.storage_s3_keys (ref);
