// Files under a root directory, in the storage service's layout (services/storage/src/backend/fs.ts): a key's last
// segment sits in a directory named after its first two characters, so no directory holds millions of entries.
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from './types.js';

const SAFE_KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export class FsObjectStore implements ObjectStore {
  readonly kind = 'fs' as const;

  constructor(readonly root: string) {}

  /** Keys are chosen by our code from plain ASCII segments; anything else is a programming error, never a path. */
  path(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`unsafe object key: ${JSON.stringify(key)}`);
    const parts = key.split('/');
    const last = parts.pop()!;
    const p = resolve(this.root, ...parts, last.slice(0, 2), last);
    if (!p.startsWith(this.root + sep)) throw new Error(`object key escapes the root: ${key}`);
    return p;
  }

  /** Written aside and renamed over (the storage service's listing skips `.partial` files), so no reader sees half a file. */
  async put(key: string, body: Readable): Promise<number> {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true });
    const aside = `${file}.${randomBytes(6).toString('hex')}.partial`;
    let size = 0;
    const count = new Transform({ transform: (chunk: Buffer, _e, done) => done(null, ((size += chunk.length), chunk)) });
    try {
      await pipeline(body, count, createWriteStream(aside, { flags: 'wx' }));
      await rename(aside, file);
    } catch (e) {
      await rm(aside, { force: true });
      throw e;
    }
    return size;
  }

  async get(key: string): Promise<Readable | null> {
    // opened before any byte moves, so a missing file is null here and never a stream error later
    const handle = await open(this.path(key), 'r').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    return handle?.createReadStream() ?? null;
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(keys.map((k) => rm(this.path(k), { force: true })));
  }

  async removePrefix(prefix: string): Promise<void> {
    if (!SAFE_KEY.test(prefix)) throw new Error(`unsafe object prefix: ${JSON.stringify(prefix)}`);
    await rm(resolve(this.root, prefix), { recursive: true, force: true });
  }
}
