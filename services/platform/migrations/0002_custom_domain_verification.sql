-- Custom domains prove ownership before they route. A claim starts 'pending' with a challenge token (published by
-- the owner as a TXT record or an HTTP file) and an expiry; it becomes 'active' once verified. Several projects may
-- hold pending claims on one domain, so a project cannot block a domain it does not own; at most one claim per
-- domain is active, and only that one routes.
--
-- Grandfathered: rows that exist before this migration were mapped without verification and stay active
-- (verified_via = 'grandfathered', verified_at null), so sites that route today keep routing.
alter table platform.custom_domains drop constraint custom_domains_pkey;

alter table platform.custom_domains
  add column status text not null default 'active' check (status in ('pending', 'active')),
  -- the challenge is published in public DNS or on the site, so it is no secret; it only proves control
  add column token text,
  add column expires_at timestamptz,
  add column verified_at timestamptz,
  add column verified_via text check (verified_via in ('txt', 'http', 'grandfathered'));

update platform.custom_domains set verified_via = 'grandfathered';

alter table platform.custom_domains
  alter column status set default 'pending',
  add primary key (domain, ref),
  add constraint custom_domains_state check (
    (status = 'pending' and token is not null and expires_at is not null and verified_via is null)
    or (status = 'active' and verified_via is not null)
  );

-- the gateway's lookup, and the rule that one domain routes to one project
create unique index custom_domains_active on platform.custom_domains (domain) where status = 'active';
create index custom_domains_ref on platform.custom_domains (ref);
create index custom_domains_expiry on platform.custom_domains (expires_at) where status = 'pending';
