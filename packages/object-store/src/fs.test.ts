// The filesystem store: the storage service's layout (fan-out by the key's first two characters), whole files
// replaced atomically, absent keys as null, keys that are not plain segments refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsObjectStore } from './fs.js';
import { objectVersionKey } from './types.js';

const text = async (r: Readable | null) => {
  assert.ok(r);
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

test('files land where the storage service keeps them and are replaced whole', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'object-store-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const store = new FsObjectStore(root);
  const key = objectVersionKey('abcdefghijklmnopqrst', '0123456789abcdef0123456789abcdef');
  assert.equal(store.path(key), join(root, 'abcdefghijklmnopqrst', 'o', '01', '0123456789abcdef0123456789abcdef'));
  assert.equal(await store.get(key), null);
  assert.equal(await store.put(key, Readable.from([Buffer.from('first')])), 5);
  assert.equal(await store.put(key, Readable.from([Buffer.from('second'), Buffer.from('!')])), 7);
  assert.equal(await text(await store.get(key)), 'second!');
  assert.deepEqual(readdirSync(join(root, 'abcdefghijklmnopqrst', 'o', '01')), ['0123456789abcdef0123456789abcdef'], 'no partial file left');

  await store.put('backups/r/b1/manifest', Readable.from([Buffer.from('{}')]));
  await store.removePrefix('backups/r');
  assert.equal(await store.get('backups/r/b1/manifest'), null);
  await store.remove([key, 'never/written']);
  assert.equal(await store.get(key), null);
});

test('a failed write leaves the previous file and nothing else', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'object-store-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const store = new FsObjectStore(root);
  await store.put('k/v1', Readable.from([Buffer.from('kept')]));
  const broken = new Readable({ read() { this.destroy(new Error('source failed')); } });
  await assert.rejects(store.put('k/v1', broken), /source failed/);
  assert.equal(await text(await store.get('k/v1')), 'kept');
  assert.deepEqual(readdirSync(join(root, 'k', 'v1')), ['v1']);
});

test('keys that are not plain segments are refused before touching the disk', () => {
  const store = new FsObjectStore('/nonexistent-root');
  for (const bad of ['../etc/passwd', 'a/../b', '/abs', 'a//b', 'a.b', '']) assert.throws(() => store.path(bad), /unsafe object key/, bad);
});
