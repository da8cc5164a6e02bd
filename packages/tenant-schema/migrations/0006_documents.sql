-- The documents service's catalogue in every project database: which collections exist (each is a table
-- documents."<name>" the service creates on first insert) and their indexes. "$" cannot appear in a MongoDB
-- collection name, so these tables never collide with a collection. Owned by basalt_admin, the role the
-- documents service runs as; the API roles (anon, authenticated, service_role) have no access to the schema.
create table if not exists documents."$collections" (
  name text primary key,
  created_at timestamptz not null default now()
);
create table if not exists documents."$indexes" (
  collection text not null,
  name text not null,
  key jsonb not null,
  "unique" boolean not null default false,
  expire_after integer,
  -- some document holds an array along an indexed path: equality must then look inside arrays
  multikey boolean not null default false,
  pg_name text not null,
  primary key (collection, name)
);
alter table documents."$collections" owner to basalt_admin;
alter table documents."$indexes" owner to basalt_admin;
