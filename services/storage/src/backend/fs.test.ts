import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
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

test('a download reuses its two buffers without overwriting a chunk before the destination has taken it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'basalt-fs-'));
  try {
    const fs = new FsBackend(root);
    const size = 5 * 1024 * 1024 + 123;
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) data.writeUInt32LE(i, Math.min(i, size - 4));
    await fs.put('ref/o/00aa', Readable.from([data]), size);
    // a slow destination that copies each chunk only when it gets round to it: a buffer reused before its write
    // completed would show up as wrong bytes here
    const collect = async (range?: { start: number; end: number }) => {
      const seen: Buffer[] = [];
      const dest = new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, done) {
          setTimeout(() => {
            seen.push(Buffer.from(chunk));
            done();
          }, 2);
        },
      });
      const download = await fs.download('ref/o/00aa', range);
      await new Promise((resolve, reject) => download.once('error', reject).once('close', resolve).pipe(dest));
      return Buffer.concat(seen);
    };
    const whole = await collect();
    assert.ok(whole.equals(data));
    const part = await collect({ start: 1_000_000, end: 3_500_000 });
    assert.ok(part.equals(data.subarray(1_000_000, 3_500_001)));
    await assert.rejects(fs.download('ref/o/missing'), /Object not found/, 'a missing file fails before anything is piped');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('files are staged in one directory, never listed as keys; those a dead process left are removed once old', async () => {
  const root = mkdtempSync(join(tmpdir(), 'basalt-fs-'));
  try {
    const fs = new FsBackend(root);
    await fs.put('ref/a/00ff', Readable.from([Buffer.from('blob')]), 100, { shared: true });
    // a TUS chunk staged and dropped, and two files left by a process killed mid-write: one old, one recent
    await (await fs.stagePart('ref/o/0123abcd', Readable.from([Buffer.from('chunk')]), 100)).discard();
    const staging = join(root, '.staging');
    writeFileSync(join(staging, 'old.partial'), 'x');
    writeFileSync(join(staging, 'new.partial'), 'y');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(join(staging, 'old.partial'), hourAgo, hourAgo);
    const keys: string[] = [];
    for await (const { key } of fs.list('')) keys.push(key);
    assert.deepEqual(keys, ['ref/a/00ff']);
    assert.equal(await fs.removeStaged(Date.now() - 60_000), 1);
    assert.deepEqual(readdirSync(staging), ['new.partial']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
