import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachment, parseRange } from './http-cache.js';

test('byte ranges: start-end, open-ended, suffix; unsatisfiable is null; anything else is the whole object', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=990-2000', 1000), { start: 990, end: 999 });
  assert.equal(parseRange('bytes=1000-', 1000), null);
  assert.equal(parseRange('bytes=5-2', 1000), null);
  assert.equal(parseRange('bytes=-0', 1000), null);
  assert.equal(parseRange(undefined, 1000), undefined);
  assert.equal(parseRange('bytes=0-1,5-6', 1000), undefined);
  assert.equal(parseRange('items=0-1', 1000), undefined);
});

test('download names are quoted safely and carried in UTF-8', () => {
  assert.equal(attachment(''), 'attachment;');
  assert.equal(attachment('a.txt'), 'attachment; filename="a.txt"; filename*=UTF-8\'\'a.txt');
  assert.equal(attachment('"evil"\r\nx.txt'), 'attachment; filename="_evil___x.txt"; filename*=UTF-8\'\'%22evil%22%0D%0Ax.txt');
  assert.match(attachment('résumé.pdf'), /filename="r_sum_.pdf"; filename\*=UTF-8''r%C3%A9sum%C3%A9.pdf/);
});
