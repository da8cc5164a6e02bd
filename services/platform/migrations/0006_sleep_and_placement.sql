-- Sleeping projects and placement over several Postgres clusters.
-- A project idle past its limit sleeps: its services release pools, isolates and realtime listeners; the gateway
-- wakes it on the next request. woke_at counts as activity, so a project just woken is not put back to sleep.
alter table platform.projects
  add column sleeping_at timestamptz,
  add column woke_at timestamptz;

-- A cluster may have a streaming replica (same roles and passwords, read-only): REST reads go there.
-- A project being moved to another cluster records where it goes, so two moves cannot overlap.
alter table platform.clusters
  add column replica_url_enc text;
alter table platform.projects
  add column moving_to text references platform.clusters (id);

-- A cluster can be kept out of placement (being drained, or reserved): new projects then go elsewhere unless asked.
alter table platform.clusters
  add column accepts_new_projects boolean not null default true;
