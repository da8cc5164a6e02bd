// What a caller needs of the object store: whole files written atomically, read as streams, removed by key or prefix.
import type { Readable } from 'node:stream';

export interface ObjectStore {
  readonly kind: 'fs' | 's3';
  /** writes body to key, replacing an earlier file atomically (readers see the old bytes or the new); the byte count */
  put(key: string, body: Readable): Promise<number>;
  /** the bytes of key, or null when there is no such file */
  get(key: string): Promise<Readable | null>;
  /** removes keys; absent ones are ignored */
  remove(keys: string[]): Promise<void>;
  /** removes everything under `<prefix>/` */
  removePrefix(prefix: string): Promise<void>;
}

/**
 * Where the storage service keeps the bytes of one object version (services/storage/src/backend/index.ts objectKey):
 * the layout both sides read, so a backup finds a project's bytes and a restore puts them where storage looks.
 */
export const objectVersionKey = (ref: string, version: string) => `${ref}/o/${version}`;
