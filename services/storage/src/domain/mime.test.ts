import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasaltError } from '@basalt/errors';
import { objectContentType, servedContentType } from './mime.js';

test('an object content type is one parsed type/subtype, lower-cased, with only a checked charset kept', () => {
  const accepted: [string | undefined, string][] = [
    [undefined, 'application/octet-stream'],
    ['', 'application/octet-stream'],
    ['image/PNG', 'image/png'],
    ['text/plain;charset=UTF-8', 'text/plain; charset=utf-8'],
    ['Text/HTML ; charset="utf-8"; q=1', 'text/html; charset=utf-8'],
    ['application/json; charset="bad <x>"', 'application/json'],
    ['image/svg+xml', 'image/svg+xml'],
  ];
  for (const [raw, stored] of accepted) assert.equal(objectContentType(raw), stored, String(raw));
});

test('lists, stray tokens, empty parts and stream containers are refused with 400 invalid_mime_type', () => {
  const refused = ['text/plain, text/html', 'text/plain foo', 'text/plain; charset=utf-8, text/html', 'multipart/x-mixed-replace; boundary=x',
    'multipart/form-data; boundary=x', 'message/rfc822', 'text/', '/html', 'text', 'text/html;', 'text/html; x', 'text/h<tml', 'te xt/html'];
  for (const raw of refused) {
    assert.throws(() => objectContentType(raw), (e: unknown) => {
      assert.ok(e instanceof BasaltError, raw);
      assert.equal(e.status, 400);
      assert.deepEqual(e.details, { statusCode: '400', error: 'invalid_mime_type' });
      assert.ok(!e.message.includes(raw), 'the crafted value is not echoed');
      return true;
    }, raw);
  }
});

test('what is served comes from a parse of the stored value: active types are neutralised, bad rows are bytes', () => {
  const cases: [unknown, string, boolean][] = [
    ['text/html', 'text/plain; charset=utf-8', true],
    ['APPLICATION/XHTML+XML; charset=utf-8', 'text/plain; charset=utf-8', true],
    ['image/svg+xml', 'image/svg+xml', true],
    ['text/xml', 'text/xml', true],
    ['application/rss+xml', 'application/rss+xml', true],
    ['text/xsl', 'text/xsl', true],
    ['image/png', 'image/png', false],
    ['text/plain; charset=utf-8', 'text/plain; charset=utf-8', false],
    // rows written before the parse rule
    ['text/plain, text/html', 'application/octet-stream', false],
    ['text/html foo', 'application/octet-stream', false],
    ['multipart/x-mixed-replace; boundary=x', 'application/octet-stream', false],
    ['', 'application/octet-stream', false],
    [null, 'application/octet-stream', false],
  ];
  for (const [stored, contentType, sandbox] of cases) assert.deepEqual(servedContentType(stored), { contentType, sandbox }, String(stored));
});
