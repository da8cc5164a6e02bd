import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadReader, MAX_HEAD, MAX_INTERIM } from './head.js';

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

test('interim answers are skipped, in one read or across reads; more than MAX_INTERIM of them, or a status line that is not HTTP, is an error', () => {
  const final = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  const one = new HeadReader().push(Buffer.from(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n${final}`));
  assert.ok(one && !(one instanceof Error));
  assert.equal(one.head.status, 200);
  assert.equal(one.rest.toString(), 'ok');
  const split = new HeadReader();
  assert.equal(split.push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n')), null);
  const got = split.push(Buffer.from(final));
  assert.ok(got && !(got instanceof Error) && got.head.status === 200);
  // a read packed with thousands of them (each once a recursive call in the socket callback)
  assert.ok(new HeadReader().push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'.repeat(MAX_INTERIM + 1) + final)) instanceof Error);
  for (const line of ['XYZZY nonsense', 'HTTP/1.1 abc OK', 'HTTP/2 200', 'HTTP/1.1 20 OK']) {
    assert.ok(new HeadReader().push(Buffer.from(`${line}\r\n\r\n`)) instanceof Error, line);
  }
});
