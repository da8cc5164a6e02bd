import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonDepthExceeds } from './json-body.js';

const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
const b = (s: string) => Buffer.from(s);

test('depth counts arrays and objects, not brackets inside strings or escaped quotes', () => {
  assert.equal(jsonDepthExceeds(b(nest(100)), 100), false);
  assert.equal(jsonDepthExceeds(b(nest(101)), 100), true);
  assert.equal(jsonDepthExceeds(b(`{"a":${nest(99)}}`), 100), false);
  assert.equal(jsonDepthExceeds(b(`{"a":${nest(100)}}`), 100), true);
  assert.equal(jsonDepthExceeds(b(JSON.stringify({ s: '[[[[[[[[[[{{{{{{' })), 3), false);
  assert.equal(jsonDepthExceeds(b(JSON.stringify({ s: 'quote \\" [[[[ \\\\' })), 2), false);
  assert.equal(jsonDepthExceeds(b(`["\\\\", [[[]]]]`), 3), true, 'an escaped backslash does not swallow the closing quote');
  assert.equal(jsonDepthExceeds(b(`[${'{"a":1},'.repeat(10_000)}{}]`), 2), false, 'siblings do not add depth');
});

test('refuseNul: a NUL in a JSON string is refused (Postgres text cannot hold it); an escaped backslash before u0000 is not one', async () => {
  const { parseJson } = await import('./body-parsers.js');
  const refuseNul = { refuseNul: true };
  assert.throws(() => parseJson(b('{"email":"a\\u0000b"}'), refuseNul), /NUL character/);
  assert.throws(() => parseJson(b('["\\\\\\u0000"]'), refuseNul), /NUL character/, 'an escaped backslash, then the escape');
  assert.deepEqual(parseJson(b('{"s":"\\\\u0000"}'), refuseNul), { s: '\\u0000' }, 'the six characters \\u0000, no NUL');
  assert.deepEqual(parseJson(b('{"s":"a\\u0000b"}')), { s: 'a\u0000b' }, 'accepted without it');
});
