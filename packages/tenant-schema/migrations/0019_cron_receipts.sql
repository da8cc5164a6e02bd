-- A cron run of a database function commits in the project's database, and its outcome is recorded afterwards in
-- the control database: a scheduler stopped between the two (SIGKILL, a node lost) left the run "running", then
-- marked timed_out, though its effect had committed, and nothing could tell which of the two it was. A run whose call
-- wrote to the database now writes its receipt in the same transaction (services/scheduler/src/jobs/
-- db-function-trips.ts), so the receipt exists exactly when that effect does: the scheduler settles a stranded run
-- from it (succeeded when it is there; timed_out when it is not and the run is past its timeout), and the primary
-- key rolls back a second execution of one run, or of one slot. A call that wrote nothing writes no receipt (its
-- commit stays free of a WAL flush). Receipts are kept an hour (a run's timeout is at most 15 minutes), pruned by
-- the runs themselves.
create table basalt.cron_receipts (
  scheduled_at timestamptz not null,
  job_id uuid not null,
  committed_at timestamptz not null default now(),
  -- a run is its job's slot: a slot run twice (a control database restored to before its run was recorded) is
  -- refused as well as a run executed twice; slots first, so the oldest receipts are at the start of the key
  primary key (scheduled_at, job_id)
);
-- A run writes its receipt as the caller it runs as (service_role), through this function, called only when its
-- transaction has written (`select basalt.cron_receipt(…) where pg_current_xact_id_if_assigned() is not null`, and
-- the function checks again): a plain INSERT statement is refused in a read-only transaction even when it inserts
-- nothing, and a project over its db_bytes quota is made read-only while its read-only jobs go on. PL/pgSQL keeps
-- the function's plans per connection. Measured at 1,000 writing runs a second (lateness p99): 242-264 ms without
-- receipts, 364-372 with this function as security definer with its own search_path, 306-355 as a SQL function
-- (planned on every call), 241-270 as it is. With `prune`, the receipts over an hour old go too, found by the key's
-- start. service_role may use schema basalt for this table and function alone (every other function there is
-- revoked from public or is an event trigger's); they are the project's own bookkeeping, which the service key may
-- read and change as it may any other.
create function basalt.cron_receipt(job uuid, slot timestamptz, prune boolean) returns void language plpgsql as $$
begin
  if pg_catalog.pg_current_xact_id_if_assigned() is null then
    return;
  end if;
  insert into basalt.cron_receipts (scheduled_at, job_id) values (slot, job);
  if prune then
    delete from basalt.cron_receipts
     where scheduled_at < pg_catalog.now() - interval '1 hour' and committed_at < pg_catalog.now() - interval '1 hour';
  end if;
end $$;
revoke all on function basalt.cron_receipt(uuid, timestamptz, boolean) from public;
grant execute on function basalt.cron_receipt(uuid, timestamptz, boolean) to service_role, basalt_admin;
grant usage on schema basalt to service_role;
grant select, insert, delete on basalt.cron_receipts to service_role, basalt_admin;
