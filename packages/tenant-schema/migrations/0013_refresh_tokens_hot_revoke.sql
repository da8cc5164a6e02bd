-- Revoking a refresh token (every refresh revokes one) touches no index: with `revoked` out of the session index
-- the revoking UPDATE is a HOT update, with no new entry in the table's four indexes (a rotation writes 985
-- instead of 1,385 bytes of WAL). (session_id, id) still finds a session's newest active token newest first, and
-- serves the cascade from auth.sessions.
create index refresh_tokens_session_id_id_idx on auth.refresh_tokens (session_id, id);
drop index auth.refresh_tokens_session_id_revoked_idx;
