// Counts bytes on their way to a backend and stops the stream the moment it passes the size limit.
// (No content hash here: it cost as much CPU as the rest of an upload. Object ETags come from the version,
// which is new on every write; assets hash their small files themselves to address them by content.)
import { Transform, type TransformCallback } from 'node:stream';
import { storageErrors } from '../errors.js';
import type { Stored } from './types.js';

export class Meter extends Transform {
  #size = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.maxBytes) return done(storageErrors.tooLarge());
    done(null, chunk);
  }

  result(): Stored {
    return { size: this.#size };
  }
}
