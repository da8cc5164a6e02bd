// compact(): a counting statement keeps only the parameters its text uses, renumbered, quoted text untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compact } from './sql.js';

test('only the parameters used, renumbered in order of first use; quoted names and literals untouched', () => {
  const s = compact({ text: `select $2, "a$1", 'x$3''$1' from t where x = $4 and y = $2 and z = $10`, values: ['a', 'b', 'c', 'd', 5, 6, 7, 8, 9, 'j'] });
  assert.equal(s.text, `select $1, "a$1", 'x$3''$1' from t where x = $2 and y = $1 and z = $3`);
  assert.deepEqual(s.values, ['b', 'd', 'j']);
  assert.deepEqual(compact({ text: 'select 1', values: ['unused'] }), { text: 'select 1', values: [] });
});
