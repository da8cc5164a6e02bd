// The S3 store against s3rver (a local S3 server): created bucket, streams of unknown length written whole and
// replaced, absent keys as null, removal by key and by prefix.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import S3rver from 's3rver';
import { createObjectStore } from './config.js';
import type { ObjectStore } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'object-store-s3-'));
let server: S3rver;
let store: ObjectStore;

before(async () => {
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = await server.run();
  store = await createObjectStore({
    STORAGE_BACKEND: 's3', STORAGE_FS_ROOT: dir, S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_BUCKET: 'object-store-test',
    S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER', S3_REGION: 'us-east-1',
  });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const bytesOf = async (r: Readable | null) => {
  assert.ok(r);
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

test('put, replace, get, remove and removePrefix on S3', async () => {
  assert.equal(store.kind, 's3');
  const big = randomBytes(9 * 1024 * 1024 + 17); // two parts
  const chunks = Array.from({ length: 4 }, (_, i) => big.subarray(i * (big.length / 4 | 0), i === 3 ? big.length : (i + 1) * (big.length / 4 | 0)));
  assert.equal(await store.put('backups/r/b1/database', Readable.from(chunks)), big.length);
  assert.ok((await bytesOf(await store.get('backups/r/b1/database'))).equals(big));
  assert.equal(await store.put('backups/r/b1/database', Readable.from([Buffer.from('smaller')])), 7);
  assert.equal((await bytesOf(await store.get('backups/r/b1/database'))).toString(), 'smaller');
  assert.equal(await store.get('backups/r/none'), null);

  await store.put('backups/r/b1/manifest', Readable.from([Buffer.from('{}')]));
  await store.put('backups/r2/b2/manifest', Readable.from([Buffer.from('{}')]));
  await store.removePrefix('backups/r');
  assert.equal(await store.get('backups/r/b1/manifest'), null);
  assert.equal(await store.get('backups/r/b1/database'), null);
  assert.equal((await bytesOf(await store.get('backups/r2/b2/manifest'))).toString(), '{}', 'a sibling prefix stays');
  await store.remove(['backups/r2/b2/manifest', 'backups/never']);
  assert.equal(await store.get('backups/r2/b2/manifest'), null);
});
