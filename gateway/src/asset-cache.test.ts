import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { AssetCache } from './asset-cache.js';

/** what the cache uses of its subscriber connection: subscribe, and the message, close and ready events */
class Subscriber extends EventEmitter {
  channels: string[] = [];
  async subscribe(channel: string) {
    this.channels.push(channel);
  }
}

const head = (etag = '"e1"') => ['content-type', 'text/plain', 'etag', etag, 'last-modified', new Date(0).toUTCString(), 'content-length', '2'];
const body = Buffer.from('hi');

async function cache(o: Partial<ConstructorParameters<typeof AssetCache>[0]> = {}) {
  const c = new AssetCache({ maxBytes: 1024, maxFileBytes: 512, ttlMs: 60_000, settleMs: 50, ...o });
  const sub = new Subscriber();
  await c.listen(sub as unknown as Redis, 'p:');
  return { c, sub, at: performance.now() - 10 };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('keeps what it is given, under its bytes, per project; a message drops only that project', async () => {
  const { c, sub, at } = await cache({ maxBytes: 5 });
  assert.deepEqual(sub.channels, ['p:assets:changed']);
  c.keep('a', '/assets/v1/x', at, head(), body);
  c.keep('b', '/assets/v1/x', at, head('"e2"'), body);
  assert.equal(c.get('a', '/assets/v1/x')!.etag, '"e1"');
  assert.equal(c.get('b', '/assets/v1/x')!.etag, '"e2"');
  assert.equal(c.get('a', '/assets/v1/y'), undefined);
  c.keep('a', '/assets/v1/y', at, head(), body); // 6 bytes > 5: the oldest (a's x) goes
  assert.equal(c.get('a', '/assets/v1/x'), undefined);
  assert.equal(c.bytes, 4);
  sub.emit('message', 'p:assets:changed', 'a');
  sub.emit('message', 'other:assets:changed', 'b');
  assert.equal(c.get('a', '/assets/v1/y'), undefined);
  assert.ok(c.get('b', '/assets/v1/x'));
  assert.equal(c.bytes, 2);
});

test('a fill that began before a change, within the settle window after it, or that took longer is not kept', async () => {
  const { c, sub } = await cache();
  const before = performance.now();
  await sleep(5);
  sub.emit('message', 'p:assets:changed', 'a');
  c.keep('a', '/p', before, head(), body);
  assert.equal(c.get('a', '/p'), undefined, 'began before the change');
  c.keep('a', '/p', performance.now(), head(), body);
  assert.equal(c.get('a', '/p'), undefined, 'within the settle window');
  c.keep('b', '/p', performance.now(), head(), body);
  assert.ok(c.get('b', '/p'), 'another project is not held back');
  await sleep(60);
  const slow = performance.now() - 60;
  c.keep('a', '/slow', slow, head(), body);
  assert.equal(c.get('a', '/slow'), undefined, 'a fill longer than the window');
  c.keep('a', '/p', performance.now(), head(), body);
  assert.ok(c.get('a', '/p'), 'settled');
});

test('nothing is kept or served while the subscription is down; back up, all is dropped and settles again', async () => {
  const { c, sub, at } = await cache();
  c.keep('a', '/p', at, head(), body);
  assert.ok(c.get('a', '/p'));
  sub.emit('close');
  assert.equal(c.get('a', '/p'), undefined);
  assert.equal(c.keepBytes, 0);
  c.keep('a', '/q', performance.now(), head(), body);
  sub.emit('ready');
  assert.equal(c.get('a', '/q'), undefined);
  assert.equal(c.keepBytes, 512);
  c.keep('a', '/q', performance.now(), head(), body);
  assert.equal(c.get('a', '/q'), undefined, 'within the settle window after reconnecting');
  await sleep(60);
  c.keep('a', '/q', performance.now(), head(), body);
  assert.ok(c.get('a', '/q'));
});

test('expired entries, bodies over the file limit and answers without validators are not served', async () => {
  const { c, at } = await cache({ ttlMs: 20 });
  c.keep('a', '/old', at, head(), body);
  c.keep('a', '/big', at, head(), Buffer.alloc(513));
  c.keep('a', '/bare', at, ['content-type', 'text/plain', 'content-length', '2'], body);
  assert.ok(c.get('a', '/old'));
  assert.equal(c.get('a', '/big'), undefined);
  assert.equal(c.get('a', '/bare'), undefined);
  await sleep(25);
  assert.equal(c.get('a', '/old'), undefined);
  assert.equal(c.bytes, 0);
});
