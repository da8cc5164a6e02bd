// The local filesystem backend. Every key resolves strictly below the root, whatever it contains.
import { createReadStream, createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, opendir, readdir, rename, rm, stat, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { storageErrors } from '../errors.js';
import { Download } from './download.js';
import { Meter } from './meter.js';
import type { Backend, ByteRange, Stored, StagedPart } from './types.js';

/** reads, writes and stream buffers move 1 MB at a time */
const BLOCK = 1024 * 1024;
const SAFE_KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
/** where files are written before they are renamed into place: one directory, so what a dead process left is found */
const STAGING = '.staging';
const missingIsNoSuchKey = (e: NodeJS.ErrnoException): never => {
  throw e.code === 'ENOENT' ? storageErrors.noSuchKey() : e;
};

export class FsBackend implements Backend {
  readonly kind = 'fs' as const;

  constructor(readonly root: string) {}

  #staging: Promise<string> | null = null;

  /** a new file name in the staging directory (on the root's filesystem, so a rename places it) */
  async #stagedName(): Promise<string> {
    this.#staging ??= mkdir(join(this.root, STAGING), { recursive: true }).then(() => join(this.root, STAGING));
    return join(await this.#staging, `${randomBytes(12).toString('hex')}.partial`);
  }

  /** The file of a key. Service keys are plain ASCII segments; anything else is a programming error, not a path. */
  path(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`unsafe storage key: ${JSON.stringify(key)}`);
    // two characters of fan-out so no directory holds millions of entries
    const parts = key.split('/');
    const last = parts.pop()!;
    const p = resolve(this.root, ...parts, last.slice(0, 2), last);
    if (!p.startsWith(this.root + sep)) throw new Error(`storage key escapes the root: ${key}`);
    return p;
  }

  /** directories known to exist, so a write costs no mkdir once its fan-out directory is there */
  readonly #dirs = new Set<string>();

  /** The directory of a file, created unless known to exist. */
  async #ensureDir(file: string): Promise<string> {
    const dir = dirname(file);
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      if (this.#dirs.size > 100_000) this.#dirs.clear();
      this.#dirs.add(dir);
    }
    return dir;
  }

  /** The descriptor is opened before any byte moves, so an overwrite that unlinks the file cannot cut a read short. */
  #openForRead(key: string) {
    return open(this.path(key), 'r').catch(missingIsNoSuchKey);
  }

  async put(key: string, body: Readable, maxBytes: number, opts: { shared?: boolean } = {}): Promise<Stored> {
    const file = this.path(key);
    const dir = await this.#ensureDir(file);
    const meter = new Meter(maxBytes);
    // A version key is new and unread until its row commits: written in place ('wx' refuses a collision).
    // A shared key is written aside and renamed over, so its readers never see a partial file.
    const target = opts.shared ? await this.#stagedName() : file;
    try {
      await pipeline(body, meter, createWriteStream(target, { flags: 'wx', highWaterMark: BLOCK }));
      if (opts.shared) await rename(target, file);
    } catch (e) {
      await rm(target, { force: true });
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.#dirs.delete(dir); // removed under us (a deleted project)
      throw e;
    }
    return meter.result();
  }

  async beginParts(key: string): Promise<string | null> {
    const file = this.path(key);
    await this.#ensureDir(file);
    await writeFile(file, '', { flag: 'wx' });
    return null;
  }

  /**
   * A chunk is streamed to a file of its own beside the object's, so one that loses its offset to another (both in
   * flight at once) or outlives its upload never writes into the object. Placed, the first chunk becomes the object's
   * file (a rename); a later one is copied to its offset, a second write of its bytes that keeps the object one file.
   * Bytes past the recorded offset (a copy cut short) are harmless: the next chunk placed there overwrites them.
   */
  async stagePart(key: string, body: Readable, maxBytes: number): Promise<StagedPart> {
    const file = this.path(key);
    const staged = await this.#stagedName();
    const meter = new Meter(maxBytes);
    try {
      await pipeline(body, meter, createWriteStream(staged, { flags: 'wx', highWaterMark: BLOCK }));
    } catch (e) {
      await rm(staged, { force: true });
      throw e;
    }
    return {
      size: meter.result().size,
      place: async (at) => {
        if (at.offset === 0) await rename(staged, file);
        else await pipeline(createReadStream(staged, { highWaterMark: BLOCK }), createWriteStream(file, { flags: 'r+', start: at.offset, highWaterMark: BLOCK }));
        return { etag: '' };
      },
      discard: () => rm(staged, { force: true }),
    };
  }

  async completeParts(): Promise<void> {
    // the parts were written into the object's own file
  }

  async abortParts(key: string): Promise<void> {
    await this.remove([key]);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const handle = await this.#openForRead(key);
    return handle.createReadStream({ start: range?.start, end: range?.end, highWaterMark: BLOCK });
  }

  /** The file is opened now, so a missing key fails before any header is sent; its bytes move when piped. */
  async download(key: string, range?: ByteRange): Promise<Download> {
    const handle = await this.#openForRead(key);
    return new Download((dest) => copyTo(handle, range, dest), () => handle.close());
  }

  async copy(from: string, to: string): Promise<void> {
    // Stored files are never modified in place, so a hard link is a correct (and free) copy.
    const target = this.path(to);
    await this.#ensureDir(target);
    await link(this.path(from), target).catch(missingIsNoSuchKey);
    // a fresh modification time, so the orphan sweeper counts the copy's age from now
    const now = new Date();
    await utimes(target, now, now);
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(keys.map((k) => rm(this.path(k), { force: true })));
  }

  /** Staged files last written before `before` (ms since the epoch): what a process that died mid-write left. */
  async removeStaged(before: number): Promise<number> {
    const dir = join(this.root, STAGING);
    const names = await readdir(dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const st = await stat(join(dir, name)).catch(() => null);
      if (st && st.mtimeMs < before) {
        await rm(join(dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Keys come back without the fan-out directory; staged files (being written, or left by a crash) are not keys. */
  async *list(prefix: string): AsyncIterable<{ key: string; modified: Date }> {
    if (prefix !== '' && !SAFE_KEY.test(prefix)) throw new Error(`unsafe storage prefix: ${JSON.stringify(prefix)}`);
    const walk = async function* (dir: string, parts: string[]): AsyncGenerator<{ key: string; modified: Date }> {
      let entries;
      try {
        entries = await opendir(dir);
      } catch {
        return;
      }
      for await (const e of entries) {
        const path = `${dir}/${e.name}`;
        if (e.isDirectory()) {
          if (e.name !== STAGING) yield* walk(path, [...parts, e.name]);
        }
        else if (e.isFile() && !e.name.endsWith('.partial')) {
          const st = await stat(path).catch(() => null);
          // parts end with the two-character fan-out directory, which is not part of the key
          if (st) yield { key: [...parts.slice(0, -1), e.name].join('/'), modified: st.mtime };
        }
      }
    };
    yield* walk(prefix === '' ? this.root : resolve(this.root, prefix), prefix === '' ? [] : prefix.split('/'));
  }

  async removePrefix(prefix: string): Promise<void> {
    if (!SAFE_KEY.test(prefix)) throw new Error(`unsafe storage prefix: ${JSON.stringify(prefix)}`);
    this.#dirs.clear();
    await rm(resolve(this.root, prefix), { recursive: true, force: true });
  }
}

/**
 * Writes the file (or range) to dest and ends it through two buffers in turn: one is being written while the
 * other is read into, and a buffer is read into again only after its write has completed (the write callback),
 * so no byte is overwritten in flight. Buffers are no larger than what they will carry (a 4 KB object, 4 KB).
 */
async function copyTo(handle: FileHandle, range: ByteRange | undefined, dest: Writable): Promise<void> {
  const end = range ? range.end + 1 : (await handle.stat()).size;
  let pos = range?.start ?? 0;
  const size = Math.max(Math.min(BLOCK, end - pos), 1);
  const buffers: Buffer[] = [Buffer.allocUnsafe(size)];
  let writing: Promise<void> = Promise.resolve();
  // a destination closed under us (the client left) ends the loop even if a write callback never comes
  const closed = new Promise<void>((_resolve, reject) => dest.once('close', () => reject(new Error('aborted'))));
  closed.catch(() => undefined);
  for (let turn = 0; pos < end; turn ^= 1) {
    const buf = (buffers[turn] ??= Buffer.allocUnsafe(size)); // the second only when a second read comes
    const { bytesRead } = await handle.read(buf, 0, Math.min(size, end - pos), pos);
    if (bytesRead === 0) break;
    await Promise.race([writing, closed]);
    if (dest.destroyed) throw new Error('aborted');
    writing = new Promise<void>((resolve, reject) => dest.write(buf.subarray(0, bytesRead), (e) => (e ? reject(e) : resolve())));
    writing.catch(() => undefined); // observed by the next race; never an unhandled rejection if close wins it
    pos += bytesRead;
  }
  await Promise.race([writing, closed]);
  await new Promise<void>((resolve) => dest.end(resolve));
}
