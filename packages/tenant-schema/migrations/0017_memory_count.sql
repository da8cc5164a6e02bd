-- The plan's memory_count is checked before every add (services/memory/src/domain/memory-quota.ts), and it
-- counted the project's memories with count(*): the whole table read on every add, 10,000 rows on the free plan's
-- limit and up to a million on the next. The count is kept instead: each statement that inserts or deletes
-- memories adds one row holding its change to memory.count_deltas, in its own transaction, so the sum of the rows a
-- snapshot sees is exactly count(*) in that snapshot. Rows rather than one counter row: an add holding a counter
-- row until it commits would make every other add wait for it, and deadlock with a delete that holds a memory the
-- add's transaction goes on to update. Every 64th such statement also folds the rows it sees into one (skipping
-- rows another fold holds, so no writer ever waits for another), which keeps the table small whether or not the
-- project has a quota that reads it.
-- no memory is written between the count below and the triggers taking over
lock table memory.memories in share row exclusive mode;
create table memory.count_deltas (delta bigint not null);
create sequence memory.count_deltas_writes;
alter table memory.count_deltas enable row level security; -- no policy: the service's own (service_role)
grant select, insert, delete on memory.count_deltas to service_role;
grant all on memory.count_deltas to basalt_admin;
alter table memory.count_deltas owner to basalt_admin;
alter sequence memory.count_deltas_writes owner to basalt_admin;
insert into memory.count_deltas (delta) select count(*) from memory.memories;

-- Folds the rows of a delta table that this transaction sees and no other holds into one (0018 uses it too).
create function basalt.fold_deltas(deltas regclass) returns void language plpgsql set search_path = '' as $$
begin
  execute pg_catalog.format('with gone as (delete from %1$s where ctid = any (array(select ctid from %1$s for update skip locked))
      returning delta)
    insert into %1$s (delta) select sum(delta) from gone having count(*) > 0', deltas);
end $$;
revoke all on function basalt.fold_deltas(regclass) from public;
grant execute on function basalt.fold_deltas(regclass) to basalt_admin;

-- security definer: whoever writes memories (a user through RLS, the service, the owner) counts them
create function memory.count_memories() returns trigger language plpgsql security definer set search_path = '' as $$
declare n bigint;
begin
  if tg_op = 'TRUNCATE' then
    delete from memory.count_deltas;
    return null;
  end if;
  if tg_op = 'INSERT' then
    select count(*) into n from new_rows;
  else
    select -count(*) into n from old_rows;
  end if;
  if n = 0 then
    return null;
  end if;
  insert into memory.count_deltas (delta) values (n);
  if pg_catalog.nextval('memory.count_deltas_writes') % 64 = 0 then
    perform basalt.fold_deltas('memory.count_deltas');
  end if;
  return null;
end $$;
alter function memory.count_memories() owner to basalt_admin;
revoke all on function memory.count_memories() from public;

create trigger memories_counted_insert after insert on memory.memories
  referencing new table as new_rows for each statement execute function memory.count_memories();
create trigger memories_counted_delete after delete on memory.memories
  referencing old table as old_rows for each statement execute function memory.count_memories();
create trigger memories_counted_truncate after truncate on memory.memories
  for each statement execute function memory.count_memories();
