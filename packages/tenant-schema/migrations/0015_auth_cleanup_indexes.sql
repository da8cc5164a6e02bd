-- The auth service deletes what it no longer needs in small batches (GoTrue's cleanup): flow states and MFA
-- challenges by age, sessions past not_after. Without these a batch's LIMIT still scans the table until it has
-- found its rows, all of it when nothing is due. Refresh tokens get no index here: the sweep walks their primary
-- key, and an index on revoked or updated_at would end the HOT update of every rotation (0013).
create index flow_state_created_at_idx on auth.flow_state (created_at);
create index mfa_challenges_created_at_idx on auth.mfa_challenges (created_at);
create index sessions_not_after_idx on auth.sessions (not_after) where not_after is not null;
