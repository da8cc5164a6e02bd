-- Realtime in every project database, as Supabase Realtime has it: realtime.messages (RLS on it authorises
-- private channels; realtime.topic() names the channel a policy is asked about), realtime.send() for
-- server-side broadcasts from SQL, and the trigger-based change capture the realtime service installs on a
-- table only while someone subscribes to it (stock Postgres, wal_level=replica: no logical decoding needed).

create table realtime.messages (
  id uuid not null default gen_random_uuid(),
  topic text not null,
  extension text not null check (extension in ('broadcast', 'presence')),
  payload jsonb,
  binary_payload bytea,
  event text,
  private boolean not null default false,
  inserted_at timestamp not null default (now() at time zone 'utc'),
  updated_at timestamp not null default (now() at time zone 'utc'),
  primary key (id)
);
create index messages_topic_inserted_at on realtime.messages (topic, inserted_at);
alter table realtime.messages enable row level security;
-- The project's owner writes the policies (as in Supabase); the API roles are filtered by them.
alter table realtime.messages owner to basalt_admin;
grant usage on schema realtime to anon, authenticated, service_role;
grant select, insert, update on realtime.messages to anon, authenticated, service_role;

-- The channel topic a policy on realtime.messages is evaluated for (set per check by the realtime service).
create or replace function realtime.topic() returns text language sql stable as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;
grant execute on function realtime.topic() to anon, authenticated, service_role, basalt_admin;

-- Server-side broadcast: stored (private channels can replay it) and announced at commit, so a rolled-back
-- transaction sends nothing. Payloads over NOTIFY's limit travel by id and are read back by the service.
create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void language plpgsql security definer set search_path = '' as $$
declare
  msg_id uuid := gen_random_uuid();
  note text;
begin
  insert into realtime.messages (id, topic, extension, payload, event, private)
    values (msg_id, topic, 'broadcast', payload, event, private);
  note := json_build_object('id', msg_id, 'topic', topic, 'event', event, 'private', private, 'payload', payload)::text;
  if octet_length(note) > 7900 then
    note := json_build_object('id', msg_id, 'topic', topic, 'big', true)::text;
  end if;
  perform pg_notify('realtime:send', note);
end $$;
alter function realtime.send(jsonb, text, text, boolean) owner to basalt_admin;
revoke all on function realtime.send(jsonb, text, text, boolean) from public;
grant execute on function realtime.send(jsonb, text, text, boolean) to authenticated, service_role, basalt_admin;

-- Change capture: a row trigger announces each change at commit (NOTIFY is transactional, delivered once per
-- listening session, in commit order). The sequence number keeps two identical changes of one transaction
-- apart (NOTIFY folds identical payloads) and names rows too big for NOTIFY, parked in change_overflow.
create sequence realtime.change_seq;
create table realtime.change_overflow (
  id bigint primary key,
  payload jsonb not null,
  inserted_at timestamptz not null default now()
);
alter table realtime.change_overflow owner to basalt_admin;
alter sequence realtime.change_seq owner to basalt_admin;

create or replace function realtime.capture_change() returns trigger language plpgsql security definer
set search_path = '' as $$
declare
  seq bigint := nextval('realtime.change_seq');
  note text;
begin
  note := json_build_object(
    'i', seq, 's', tg_table_schema, 't', tg_table_name, 'o', tg_op,
    'c', floor(extract(epoch from clock_timestamp()) * 1000),
    'n', case when tg_op <> 'DELETE' then to_jsonb(new) end,
    'p', case when tg_op <> 'INSERT' then to_jsonb(old) end)::text;
  if octet_length(note) > 7900 then
    insert into realtime.change_overflow (id, payload) values (seq, note::jsonb);
    note := json_build_object('i', seq, 'x', true)::text;
  end if;
  perform pg_notify('realtime:changes', note);
  return null;
end $$;
alter function realtime.capture_change() owner to basalt_admin;

-- Supabase projects opt tables in with `alter publication supabase_realtime add table …`; the publication
-- exists so that SQL written for Supabase runs unchanged (capture here does not depend on it).
do $$ begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end $$;
alter publication supabase_realtime owner to basalt_admin;
