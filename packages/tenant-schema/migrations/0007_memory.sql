-- The memory service's tables in every project database (mem0-compatible memories). Vectors are stored portably:
-- the float32 embedding as bytea plus a binary-quantised sign code (bit varying) that a sequential scan can rank
-- by Hamming distance (bit_count of the XOR) before the service rescores the best candidates exactly. pgvector
-- is not required. The service runs a signed-in user's statements as `authenticated`: RLS keeps each user to the
-- memories whose user_id is their JWT's sub, through the memory API and through REST alike. In large projects the
-- service also keeps the codes in memory (refreshed through the xid column) and scans them there.

create table memory.memories (
  id uuid primary key default gen_random_uuid(),
  user_id text,
  agent_id text,
  app_id text,
  run_id text,
  memory text not null check (length(memory) between 1 and 100000),
  -- md5 of the text, as mem0 computes it: exact duplicates in a scope are caught before any model call
  hash text not null,
  metadata jsonb not null default '{}',
  categories text[] not null default '{}',
  memory_type text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  expiration_date date,
  -- the text search vector, built with the project's text search configuration (settings.memory)
  tsv tsvector,
  embedding_model text,
  embedding bytea,
  code bit varying,
  -- the writing transaction: an in-process code index re-reads rows whose xid is at or past the xmin of its
  -- last snapshot, so it never misses a row committed out of order
  xid xid8 not null default pg_current_xact_id()
);
alter table memory.memories alter column embedding set storage external; -- float data does not compress
create index memories_user on memory.memories (user_id, created_at desc);
create index memories_agent on memory.memories (agent_id) where agent_id is not null;
create index memories_run on memory.memories (run_id) where run_id is not null;
create index memories_app on memory.memories (app_id) where app_id is not null;
create index memories_hash on memory.memories (hash);
create index memories_tsv on memory.memories using gin (tsv);
create index memories_xid on memory.memories (xid);

-- Every ADD, UPDATE and DELETE with the old and new text; rows outlive the memory they describe.
create table memory.history (
  id uuid primary key default gen_random_uuid(),
  memory_id uuid not null,
  user_id text,
  agent_id text,
  app_id text,
  run_id text,
  event text not null check (event in ('ADD', 'UPDATE', 'DELETE')),
  old_memory text,
  new_memory text,
  input jsonb,
  categories text[] not null default '{}',
  actor text,
  event_id uuid,
  is_deleted boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index history_memory on memory.history (memory_id, created_at);

-- Named things facts mention (people, places, products), per user scope, linked to the memories that name them.
create table memory.entities (
  id uuid primary key default gen_random_uuid(),
  user_id text,
  name text not null check (length(name) between 1 and 200),
  type text not null default 'entity',
  memory_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index entities_scope_name on memory.entities (coalesce(user_id, ''), lower(name));

create table memory.entity_links (
  entity_id uuid not null references memory.entities (id) on delete cascade,
  memory_id uuid not null references memory.memories (id) on delete cascade,
  primary key (entity_id, memory_id)
);
create index entity_links_memory on memory.entity_links (memory_id);

-- Inference requests (the queue's durable side): status, the input, and the decisions once applied.
create table memory.events (
  id uuid primary key default gen_random_uuid(),
  status text not null default 'PENDING' check (status in ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED')),
  user_id text,
  input_hash text not null,
  payload jsonb not null,
  results jsonb,
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index events_input on memory.events (input_hash) where status = 'SUCCEEDED';

-- Embeddings by model and content hash, so the same text is never embedded twice.
create table memory.embedding_cache (
  model text not null,
  hash text not null,
  embedding bytea not null,
  created_at timestamptz not null default now(),
  primary key (model, hash)
);
alter table memory.embedding_cache alter column embedding set storage external;

alter table memory.memories enable row level security;
alter table memory.history enable row level security;
alter table memory.entities enable row level security;
alter table memory.entity_links enable row level security;
alter table memory.events enable row level security;
alter table memory.embedding_cache enable row level security;

-- a user's own rows: user_id is the JWT's sub (text, as mem0 user ids are free-form)
create policy memories_own on memory.memories for all to authenticated
  using (user_id = auth.jwt() ->> 'sub') with check (user_id = auth.jwt() ->> 'sub');
create policy history_own on memory.history for all to authenticated
  using (user_id = auth.jwt() ->> 'sub') with check (user_id = auth.jwt() ->> 'sub');
create policy entities_own on memory.entities for all to authenticated
  using (user_id = auth.jwt() ->> 'sub') with check (user_id = auth.jwt() ->> 'sub');
create policy entity_links_own on memory.entity_links for all to authenticated
  using (exists (select 1 from memory.memories m where m.id = memory_id))
  with check (exists (select 1 from memory.memories m where m.id = memory_id));
create policy events_own on memory.events for all to authenticated
  using (user_id = auth.jwt() ->> 'sub') with check (user_id = auth.jwt() ->> 'sub');
-- the embedding cache is the service's own (it reads and writes it as service_role): no policy for users

grant usage on schema memory to authenticated, service_role;
grant select, insert, update, delete on memory.memories, memory.history, memory.entities, memory.entity_links, memory.events to authenticated;
grant select, insert, update, delete on all tables in schema memory to service_role;
grant all on all tables in schema memory to basalt_admin;
alter table memory.memories owner to basalt_admin;
alter table memory.history owner to basalt_admin;
alter table memory.entities owner to basalt_admin;
alter table memory.entity_links owner to basalt_admin;
alter table memory.events owner to basalt_admin;
alter table memory.embedding_cache owner to basalt_admin;
