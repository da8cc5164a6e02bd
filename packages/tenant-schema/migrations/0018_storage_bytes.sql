-- The plan's storage_bytes is checked before every upload (services/storage/src/domain/objects.ts), under a lock
-- every writer of the project queues on, and it summed the size of every object: the whole of storage.objects read,
-- and its JSON parsed, on every upload while the other uploads waited. The total is kept instead, as memory's count
-- is (0017): each object inserted, updated or deleted adds one row holding its change in bytes to
-- storage.size_deltas, in its own transaction, so the sum of the rows a snapshot sees is the sum of the objects'
-- sizes in that snapshot. Every 64th such row also folds the rows it sees into one (0017's basalt.fold_deltas).

-- an object's size as the quota counts it: metadata.size when it is a JSON number, else nothing
create function storage.object_bytes(metadata jsonb) returns float8 language sql immutable parallel safe
  set search_path = '' as $$
  select case when pg_catalog.jsonb_typeof(metadata -> 'size') = 'number' then (metadata ->> 'size')::float8 else 0 end
$$;

-- no object is written between the sum below and the triggers taking over
lock table storage.objects in share row exclusive mode;
create table storage.size_deltas (delta float8 not null);
create sequence storage.size_deltas_writes;
alter table storage.size_deltas enable row level security; -- no policy: the service's own (service_role)
grant select, insert, delete on storage.size_deltas to service_role;
grant all on storage.size_deltas to basalt_admin;
alter table storage.size_deltas owner to basalt_admin;
alter sequence storage.size_deltas_writes owner to basalt_admin;
insert into storage.size_deltas (delta) select coalesce(sum(storage.object_bytes(metadata)), 0) from storage.objects;

-- security definer: whoever writes objects (a user through RLS, the service, the owner) counts them. A row trigger,
-- not a statement trigger as memory's: objects are written one at a time, and an upload's upsert fires the
-- statement triggers of both INSERT and UPDATE, each capturing a transition table. Measured on a single-row upsert,
-- backend CPU 127-147 us without a trigger, 233-253 with the statement triggers, 193-207 with this one.
create function storage.count_object_bytes() returns trigger language plpgsql security definer set search_path = '' as $$
declare n float8;
begin
  if tg_op = 'TRUNCATE' then
    delete from storage.size_deltas;
    return null;
  elsif tg_op = 'INSERT' then
    n := storage.object_bytes(new.metadata);
  elsif tg_op = 'DELETE' then
    n := -storage.object_bytes(old.metadata);
  else
    n := storage.object_bytes(new.metadata) - storage.object_bytes(old.metadata);
  end if;
  if n = 0 then
    return null;
  end if;
  insert into storage.size_deltas (delta) values (n);
  if pg_catalog.nextval('storage.size_deltas_writes') % 64 = 0 then
    perform basalt.fold_deltas('storage.size_deltas');
  end if;
  return null;
end $$;
alter function storage.count_object_bytes() owner to basalt_admin;
revoke all on function storage.count_object_bytes() from public;

create trigger objects_bytes after insert or update or delete on storage.objects
  for each row execute function storage.count_object_bytes();
create trigger objects_bytes_truncate after truncate on storage.objects
  for each statement execute function storage.count_object_bytes();
