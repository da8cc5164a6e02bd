-- Invocation logs are pruned by age (and by count per project): the age scan needs an index on created_at,
-- the count per project one on (ref, id).
create index function_invocations_created on platform.function_invocations (created_at);
create index function_invocations_ref on platform.function_invocations (ref, id desc);
