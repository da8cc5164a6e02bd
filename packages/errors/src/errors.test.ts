import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasaltError, DATABASE_RETRY_AFTER_SECONDS, fromPgConnectionError, fromPgError, statusForSqlState } from './index.js';

// PostgREST's SQLSTATE → HTTP table, the cases clients depend on.
const cases: [string, boolean, number][] = [
  ['23505', false, 409], ['23503', false, 409], ['23502', false, 400], ['22P02', false, 400],
  ['42501', true, 401], ['42501', false, 403], ['42P01', false, 404], ['42883', false, 404],
  ['42703', false, 400], ['57014', false, 504], ['08006', false, 503], ['53300', false, 503],
  ['P0001', false, 400], ['40001', false, 409], ['XX000', false, 500], ['ZZ999', false, 500],
];
for (const [code, anon, status] of cases) {
  test(`SQLSTATE ${code}${anon ? ' (anon)' : ''} → ${status}`, () => assert.equal(statusForSqlState(code, anon), status));
}

test('a pg error becomes a BasaltError with its message, detail and hint; anything else passes through', () => {
  const e = fromPgError(Object.assign(new Error('duplicate key'), { code: '23505', detail: 'Key (id)=(1) exists.', hint: undefined }));
  assert.ok(e instanceof BasaltError);
  assert.equal((e as BasaltError).status, 409);
  assert.equal((e as BasaltError).details, 'Key (id)=(1) exists.');
  const plain = new Error('boom');
  assert.equal(fromPgError(plain), plain);
  const node = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
  assert.equal(fromPgError(node), node, 'node error codes are not SQLSTATEs');
});

test('a database that cannot be reached is a 503 with Retry-After: the pool, the socket, or the server going away', () => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
  const lost = [
    new Error('timeout exceeded when trying to connect'),
    new Error('Connection terminated unexpectedly'),
    withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    withCode('read ECONNRESET', 'ECONNRESET'),
    withCode('terminating connection due to administrator command', '57P01'),
    withCode('the database system is starting up', '57P03'),
  ];
  for (const e of lost) {
    const mapped = fromPgConnectionError(e);
    assert.equal(mapped?.status, 503, e.message);
    assert.equal(mapped?.headers?.['retry-after'], String(DATABASE_RETRY_AFTER_SECONDS));
  }
  // a bare socket error may be another backing service's, and names an internal address: only its code is said
  const refused = fromPgConnectionError(lost[2]);
  assert.deepEqual([refused?.code, refused?.message], ['unavailable', 'A service this request needs could not be reached (ECONNREFUSED)']);
  assert.equal(fromPgConnectionError(lost[4])?.code, 'database_unavailable');
  for (const e of [new Error('boom'), withCode('duplicate key value', '23505'), withCode('canceling statement', '57014'), 'ECONNREFUSED']) {
    assert.equal(fromPgConnectionError(e), null, String(e));
  }
  // PostgREST's table: a session ended by the administrator is a 503 too
  assert.equal(statusForSqlState('57P01'), 503);
});
