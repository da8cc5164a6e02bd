-- unique (job_id, scheduled_at) already serves "a job's runs, newest first" (a btree reads backwards), and every index
-- on cron_runs is written on each run's insert and on both of its status updates: at 1,000 runs a second the
-- duplicate was a fifth of that write work for nothing.
drop index if exists platform.cron_runs_job;
