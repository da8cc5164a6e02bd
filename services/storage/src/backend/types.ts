// Where object bytes live. Keys are chosen by the service (<ref>/o/<version>, <ref>/a/<sha256>), never by a client.
import type { Readable } from 'node:stream';

export interface Stored {
  size: number;
}

export interface ByteRange {
  start: number;
  /** inclusive */
  end: number;
}

export interface Backend {
  readonly kind: 'fs' | 's3';
  /** streams body to key; refuses with EntityTooLarge past maxBytes and leaves nothing behind */
  put(key: string, body: Readable, maxBytes: number): Promise<Stored>;
  /** the bytes of key (or of range); NoSuchKey when absent */
  get(key: string, range?: ByteRange): Promise<Readable>;
  copy(from: string, to: string): Promise<void>;
  /** removes keys; absent ones are ignored */
  remove(keys: string[]): Promise<void>;
  /** removes everything under `<prefix>/` (a deleted project) */
  removePrefix(prefix: string): Promise<void>;
  /** every key under `<prefix>/` with its last modification, in no particular order */
  list(prefix: string): AsyncIterable<{ key: string; modified: Date }>;
}
