-- Trigger capture keeps what it announces: every captured change is also written to realtime.change_log (in the
-- writer's transaction), so a realtime feed whose LISTEN connection broke reads back, by sequence number, the
-- changes committed while it was reconnecting, and none is lost for a subscriber who stayed connected. The log
-- replaces change_overflow (a change too big for NOTIFY was already read from a table by its number); feeds prune
-- it to its last minutes. Only tables that have subscribers carry the trigger, so nothing is written otherwise.
alter table realtime.change_overflow rename to change_log;
alter index realtime.change_overflow_pkey rename to change_log_pkey;

create or replace function realtime.capture_change() returns trigger language plpgsql security definer
set search_path = '' as $$
declare
  seq bigint := nextval('realtime.change_seq');
  change jsonb;
  note text;
begin
  change := jsonb_build_object(
    'i', seq, 's', tg_table_schema, 't', tg_table_name, 'o', tg_op,
    'c', floor(extract(epoch from clock_timestamp()) * 1000),
    'n', case when tg_op <> 'DELETE' then to_jsonb(new) end,
    'p', case when tg_op <> 'INSERT' then to_jsonb(old) end);
  insert into realtime.change_log (id, payload) values (seq, change);
  note := change::text;
  if octet_length(note) > 7900 then
    note := json_build_object('i', seq, 'x', true)::text;
  end if;
  perform pg_notify('realtime:changes', note);
  return null;
end $$;
alter function realtime.capture_change() owner to basalt_admin;
