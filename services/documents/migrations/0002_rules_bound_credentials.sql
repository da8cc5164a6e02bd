-- Wire logins bound to the collection rules: role 'authenticated' with the claims the rules see (sub at least),
-- beside the service-role logins that bypass them.
alter table platform.documents_credentials add column claims jsonb;
alter table platform.documents_credentials drop constraint documents_credentials_role_check;
alter table platform.documents_credentials add constraint documents_credentials_role_check
  check (role = 'service_role' or (role = 'authenticated' and claims ? 'sub'));
