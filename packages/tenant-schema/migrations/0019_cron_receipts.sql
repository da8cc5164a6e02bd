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
-- A run writes its receipt as the caller it runs as (service_role), with a plain insert after the call: a security
-- definer function for it, or a switch to the owner's role and back, made 1,000 writing runs a second start
-- measurably later (lateness p99 364-372 ms against 242-264 without receipts; 259-320 with the insert). service_role
-- may use schema basalt for this table alone (every function there is revoked from public or is an event
-- trigger's); it is the project's own bookkeeping, which the service key may read and change as it may any other.
grant usage on schema basalt to service_role;
grant select, insert, delete on basalt.cron_receipts to service_role, basalt_admin;
