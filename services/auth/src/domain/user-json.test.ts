// Timestamps in the user JSON are written as Date.toISOString() writes them, whichever form they arrive in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityJson } from './user-json.js';

const identity = (created_at: string) => identityJson({
  id: 'i', provider_id: 'p', user_id: 'u', identity_data: {}, provider: 'email', email: null,
  last_sign_in_at: null, created_at, updated_at: created_at,
});

test('json timestamps become Date.toISOString() output, truncated to milliseconds', () => {
  for (const pg of [
    '2026-12-03T15:31:06.123456+00:00', '2026-12-03T15:31:06.999999+00:00', '2026-12-03T15:31:06.1+00:00',
    '2026-12-03T15:31:06.12+00:00', '2026-12-03T15:31:06+00:00', '0999-01-01T00:00:00.5+00:00',
    // other zones and forms go through Date
    '2026-12-03T17:31:06.123456+02:00', '2026-12-03T10:01:06.5-05:30', '2026-12-03T15:31:06.123Z',
  ]) assert.equal(identity(pg).created_at, new Date(pg).toISOString(), pg);
});

test('a missing timestamp is left out', () => {
  assert.equal(identity('2026-12-03T15:31:06+00:00').last_sign_in_at, undefined);
});
