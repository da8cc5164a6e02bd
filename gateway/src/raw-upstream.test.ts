import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder } from './raw-upstream.js';

const body = '4\r\nWiki\r\n6\r\npedia \r\nE;ext=1\r\nin \r\n\r\nchunks.\r\n0\r\nx-trailer: 1\r\n\r\n';

test('decodes a chunked body however the bytes are split', () => {
  for (let size = 1; size <= body.length; size++) {
    const d = new ChunkedDecoder();
    let out = '';
    let done = false;
    for (let i = 0; i < body.length; i += size) {
      assert.equal(done, false, `no bytes after the end (split ${size})`);
      done = d.push(Buffer.from(body.slice(i, i + size), 'latin1'), (b) => (out += b.toString('latin1')));
    }
    assert.equal(done, true, `split ${size}`);
    assert.equal(out, 'Wikipedia in \r\n\r\nchunks.');
  }
});

test('refuses a malformed chunk size', () => {
  assert.throws(() => new ChunkedDecoder().push(Buffer.from('zz\r\n'), () => undefined));
});
