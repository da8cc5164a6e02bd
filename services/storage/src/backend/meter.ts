// Counts and hashes bytes on their way to a backend, and stops the stream the moment it passes the size limit.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { storageErrors } from '../errors.js';
import type { Stored } from './types.js';

export class Meter extends Transform {
  #size = 0;
  readonly #hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.maxBytes) return done(storageErrors.tooLarge());
    this.#hash.update(chunk);
    done(null, chunk);
  }

  result(): Stored {
    return { size: this.#size, sha256: this.#hash.digest('hex') };
  }
}
