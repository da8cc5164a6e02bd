-- Vector buckets: Supabase Storage's vector API (S3 Vectors' operations), which storage-js calls as
-- supabase.storage.vectors. A bucket holds indexes; an index holds vectors of one dimension under one distance
-- metric, each with a key and JSON metadata. Vectors are stored as the memory module stores embeddings, the
-- portable way: float32 bytes plus a sign-bit code that Postgres ranks by Hamming distance (bit_count of the
-- XOR) before the storage service rescores the best candidates exactly. Only service_role reaches these tables:
-- the vector API admits the service key alone, as Supabase's does.

create table storage.buckets_vectors (
  id text primary key,
  created_at timestamptz not null default now()
);

create table storage.vector_indexes (
  id uuid primary key default gen_random_uuid(),
  bucket_id text not null references storage.buckets_vectors (id),
  name text not null,
  data_type text not null check (data_type = 'float32'),
  dimension int not null check (dimension between 1 and 4096),
  distance_metric text not null check (distance_metric in ('cosine', 'euclidean')),
  metadata_configuration jsonb,
  created_at timestamptz not null default now(),
  unique (bucket_id, name)
);

create table storage.vectors (
  index_id uuid not null references storage.vector_indexes (id) on delete cascade,
  key text not null check (length(key) between 1 and 1024),
  embedding bytea not null,
  code bit varying not null,
  metadata jsonb not null default '{}',
  -- the writing transaction, so an in-process code index can re-read what changed since its last snapshot
  xid xid8 not null default pg_current_xact_id(),
  primary key (index_id, key)
);
alter table storage.vectors alter column embedding set storage external; -- float data does not compress

alter table storage.buckets_vectors enable row level security;
alter table storage.vector_indexes enable row level security;
alter table storage.vectors enable row level security;
alter table storage.buckets_vectors owner to basalt_admin;
alter table storage.vector_indexes owner to basalt_admin;
alter table storage.vectors owner to basalt_admin;
grant select, insert, update, delete on storage.buckets_vectors, storage.vector_indexes, storage.vectors to service_role;
