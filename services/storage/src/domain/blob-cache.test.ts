// The blob cache's bounds: bytes in all and per file, least recently read evicted first, a load that did not
// return the expected size never kept, and one load for reads that miss together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobCache } from './blob-cache.js';

const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);

test('keeps files up to the per-file limit, within the total, evicting the least recently read', async () => {
  const cache = new BlobCache({ maxBytes: 300, maxFileBytes: 100 });
  assert.equal(cache.fits(100), true);
  assert.equal(cache.fits(101), false);
  for (const sha of ['a', 'b', 'c']) await cache.get('ref', sha, 100, async () => bytes(100));
  assert.equal(cache.bytes, 300);
  assert.equal((cache.get('ref', 'a', 100, () => assert.fail('a is cached')) as Buffer).length, 100); // a is now the most recent
  await cache.get('ref', 'd', 100, async () => bytes(100));
  assert.equal(cache.bytes, 300);
  assert.deepEqual(['a', 'b', 'c', 'd'].map((s) => cache.has('ref', s)), [true, false, true, true]);
  assert.equal(cache.has('other', 'a'), false, 'keyed by project as well as hash');
});

test('a load of the wrong size is answered but not kept; concurrent misses share one load; 0 bytes turns it off', async () => {
  const cache = new BlobCache({ maxBytes: 1000, maxFileBytes: 100 });
  assert.equal((await cache.get('ref', 'short', 50, async () => bytes(40))).length, 40);
  assert.equal(cache.has('ref', 'short'), false);
  let loads = 0;
  const load = async () => (loads++, bytes(10, 7));
  const [x, y] = await Promise.all([cache.get('ref', 'same', 10, load), cache.get('ref', 'same', 10, load)]);
  assert.equal(loads, 1);
  assert.deepEqual(x, y);
  const off = new BlobCache({ maxBytes: 0, maxFileBytes: 100 });
  assert.equal(off.fits(0), false);
});
