import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BasaltError } from '@basalt/errors';
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

test('file size limits count decimal units as Supabase does, exactly, and refuse what its parser refuses', () => {
  const max = 5 * 1024 ** 3;
  assert.equal(parseSizeLimit(1024, max), 1024);
  assert.equal(parseSizeLimit(0, max), 0);
  assert.equal(parseSizeLimit('20MB', max), 20_000_000);
  assert.equal(parseSizeLimit('1024MB', max), 1_024_000_000);
  assert.equal(parseSizeLimit('2048KB', max), 2_048_000);
  assert.equal(parseSizeLimit('1234B', max), 1234);
  assert.equal(parseSizeLimit('1.5gb', max), 1_500_000_000);
  assert.equal(parseSizeLimit('50mb', max), 50_000_000);
  assert.equal(parseSizeLimit('1.5kB', max), 1500);
  for (let hundredths = 1; hundredths <= 9999; hundredths += 7) {
    const size = (hundredths / 100).toFixed(2);
    assert.equal(parseSizeLimit(`${size}MB`, max), hundredths * 10_000, size);
    assert.equal(parseSizeLimit(`${size}KB`, max), hundredths * 10, size);
  }
  assert.equal(parseSizeLimit(null, max), null);
  for (const bad of ['', 'MB', '10', '-1MB', '1.MB', '10TB', '10 MB', ' 1MB', '1e3B']) {
    assert.throws(() => parseSizeLimit(bad, max), (e: BasaltError) => e.message === 'Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B', bad);
  }
  for (const bad of [-1, 1.5, {}, true]) assert.throws(() => parseSizeLimit(bad, max), (e: BasaltError) => e.code === 'InvalidRequest', String(bad));
  assert.throws(() => parseSizeLimit('6GB', max), (e: BasaltError) => e.code === 'EntityTooLarge');
  assert.equal(parseSizeLimit('5GB', max), 5_000_000_000);
});
