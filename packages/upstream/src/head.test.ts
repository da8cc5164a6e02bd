import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadReader, MAX_HEAD } from './head.js';

const wire = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nConnection: close\r\n\r\nhello';

test('a head split over any number of reads comes out the same, with the bytes after it', () => {
  for (const size of [1, 2, 7, wire.length]) {
    const reader = new HeadReader();
    let got: ReturnType<HeadReader['push']> = null;
    for (let i = 0; i < wire.length && got === null; i += size) got = reader.push(Buffer.from(wire.slice(i, i + size), 'latin1'));
    assert.ok(got && !(got instanceof Error), `split ${size}`);
    assert.deepEqual(got.head, { status: 200, length: 5, chunked: false, keepAlive: false, fields: ['Content-Length', '5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Connection', 'close'], names: ['content-length', 'set-cookie', 'set-cookie', 'connection'] });
    // what of the body came in the read that ended the head
    assert.ok('hello'.startsWith(got.rest.toString()), `split ${size}: ${got.rest}`);
    if (size === wire.length) assert.equal(got.rest.toString(), 'hello');
  }
});

test('HTTP/1.0 and chunked framing are read; a head past the limit is an error', () => {
  const old = new HeadReader().push(Buffer.from('HTTP/1.0 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n'));
  assert.ok(old && !(old instanceof Error));
  assert.equal(old.head.keepAlive, false);
  assert.equal(old.head.chunked, true);
  assert.ok(new HeadReader().push(Buffer.alloc(MAX_HEAD + 1, 'a')) instanceof Error);
});

test('values lose the whitespace around them, names the whitespace before the colon; lines without a name are skipped', () => {
  const got = new HeadReader().push(Buffer.from('HTTP/1.1 200 OK\r\nX-A:\t one two \t\r\nX-B : b\r\nX-Empty:\r\nno colon here\r\n: nameless\r\nContent-Length : 0\r\n\r\n'));
  assert.ok(got && !(got instanceof Error));
  assert.deepEqual(got.head.fields, ['X-A', 'one two', 'X-B', 'b', 'X-Empty', '', 'Content-Length', '0']);
  assert.deepEqual(got.head.names, ['x-a', 'x-b', 'x-empty', 'content-length']);
  assert.equal(got.head.length, 0);
});
