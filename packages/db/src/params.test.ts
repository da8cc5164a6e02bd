// SqlParams numbers placeholders in the order values are added and keeps each value as given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlParams } from './params.js';

test('placeholders count up from $1 and values keep their order', () => {
  const p = new SqlParams();
  assert.equal(p.add('a'), '$1');
  assert.equal(p.add(['x', 'y']), '$2');
  assert.equal(p.add(null), '$3');
  assert.deepEqual(p.values, ['a', ['x', 'y'], null]);
});

test('json binds the text cast to jsonb and shares the numbering', () => {
  const p = new SqlParams();
  p.add(1);
  assert.equal(p.json('{"a":1}'), '$2::jsonb');
  assert.deepEqual(p.values, [1, '{"a":1}']);
});

test('separate statements number independently', () => {
  const a = new SqlParams();
  const b = new SqlParams();
  a.add(1);
  assert.equal(b.add(2), '$1');
});
