import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasaltError, fromPgError, statusForSqlState } from './index.js';

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
