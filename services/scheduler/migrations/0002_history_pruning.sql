-- Runs are pruned by age (and by count per job): the age scan needs an index on when a run was created.
create index cron_runs_created on platform.cron_runs (created_at);
