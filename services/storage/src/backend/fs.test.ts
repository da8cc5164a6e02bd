import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsBackend } from './fs.js';

test('the filesystem backend keeps every key under its root and refuses anything path-like', async () => {
  const root = mkdtempSync(join(tmpdir(), 'basalt-fs-'));
  try {
    const fs = new FsBackend(root);
    for (const bad of ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'a\\b', 'a\u0000b', '']) assert.throws(() => fs.path(bad), JSON.stringify(bad));
    assert.ok(fs.path('ref/o/0123abcd').startsWith(`${root}/ref/o/01/`));
    const stored = await fs.put('ref/o/0123abcd', Readable.from([Buffer.from('hello')]), 100);
    assert.equal(stored.size, 5);
    const chunks: Buffer[] = [];
    for await (const c of await fs.get('ref/o/0123abcd', { start: 1, end: 3 })) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'ell');
    // over the limit: refused, and no partial file is left
    await assert.rejects(fs.put('ref/o/0124abcd', Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), 100), /maximum allowed size/);
    assert.deepEqual(readdirSync(join(root, 'ref/o/01')), ['0123abcd']);
    await fs.removePrefix('ref');
    assert.deepEqual(readdirSync(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
