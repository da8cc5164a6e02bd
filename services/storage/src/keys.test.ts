import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidObjectName, mimeAllowed, parseMimeList, parseSizeLimit } from './keys.js';

test('object names: traversal, absolute, backslash, control characters and empty segments are refused', () => {
  for (const bad of ['', '..', '.', '../x', 'a/../b', 'a/./b', '/abs', 'a//b', 'a/', 'a\\b', 'C:\\x', '\\\\host\\share', 'nul\u0000', 'tab\tx', 'del\u007f', 'x'.repeat(1025)]) {
    assert.equal(isValidObjectName(bad), false, JSON.stringify(bad));
  }
  for (const good of ['a', 'a/b/c.png', '..dots', 'dots..', 'a..b/c', 'ünï/ファイル', "q'(x) &$=@;:+,!*?#%.txt", 'x'.repeat(1024)]) {
    assert.equal(isValidObjectName(good), true, JSON.stringify(good));
  }
});

test('MIME allow-lists: exact types, type/* wildcards, parameters ignored, empty list allows all', () => {
  assert.equal(mimeAllowed('image/png', ['image/*']), true);
  assert.equal(mimeAllowed('IMAGE/PNG; charset=binary', ['image/png']), true);
  assert.equal(mimeAllowed('text/plain', ['image/*', 'application/pdf']), false);
  assert.equal(mimeAllowed('text/plain', null), true);
  assert.equal(mimeAllowed('text/plain', []), true);
  assert.deepEqual(parseMimeList(['image/*', 'application/vnd.ms-excel']), ['image/*', 'application/vnd.ms-excel']);
  assert.throws(() => parseMimeList(['not a type']));
  assert.throws(() => parseMimeList('image/png'));
});

test('file size limits: bytes or "20MB"-style strings', () => {
  assert.equal(parseSizeLimit(1024), 1024);
  assert.equal(parseSizeLimit('20MB'), 20 * 1024 * 1024);
  assert.equal(parseSizeLimit('1.5 kb'), 1536);
  assert.equal(parseSizeLimit('100'), 100);
  assert.equal(parseSizeLimit(null), null);
  for (const bad of [-1, 1.5, '20 parsecs', {}, 'MB']) assert.throws(() => parseSizeLimit(bad), String(bad));
});
