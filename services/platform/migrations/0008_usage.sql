-- Metered usage per project per UTC hour (@basalt/metering): every service flushes its counters here as upserts.
-- Counters add up within the hour; sampled levels (storage_bytes, db_bytes, realtime_peak_connections) keep the
-- hour's highest value. No foreign key: a deleted project's usage stays for billing.
create table platform.usage_hourly (
  ref text not null,
  hour timestamptz not null,
  service text not null,
  metric text not null,
  value bigint not null default 0,
  primary key (ref, hour, service, metric)
);
-- the operator's report over every project reads by time
create index usage_hourly_hour on platform.usage_hourly (hour);

-- Batches already applied, so a flush retried after a lost acknowledgement adds nothing twice; pruned after a day.
create table platform.usage_flushes (
  id uuid primary key,
  at timestamptz not null default now()
);
create index usage_flushes_at on platform.usage_flushes (at);
