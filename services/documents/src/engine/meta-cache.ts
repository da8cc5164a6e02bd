// Collection catalogues (exists? which indexes, which multikey) cached per project for a couple of seconds, so
// a read is one statement. Writers that change a catalogue drop the entry after their commit and tell the other
// replicas (see app.ts); the short TTL bounds a missed message.
import { LRUCache } from 'lru-cache';
import type { CollectionMeta } from './collection.js';
import type { MetaSource } from '../domain/documents.js';

export class MetaCache {
  readonly #entries: LRUCache<string, CollectionMeta>;
  constructor(ttlMs = 2_000) {
    this.#entries = new LRUCache({ max: 50_000, ttl: ttlMs });
  }
  get = (ref: string, collection: string) => this.#entries.get(`${ref}\0${collection}`);
  set = (ref: string, collection: string, m: CollectionMeta) => void this.#entries.set(`${ref}\0${collection}`, m);
  drop = (ref: string, collection: string) => void this.#entries.delete(`${ref}\0${collection}`);
  dropProject(ref: string): void {
    for (const k of this.#entries.keys()) if (k.startsWith(`${ref}\0`)) this.#entries.delete(k);
  }
  /** the project's catalogues, as Documents reads them */
  of(ref: string): MetaSource {
    return new ProjectMeta(this, ref);
  }
}

class ProjectMeta implements MetaSource {
  constructor(private readonly cache: MetaCache, private readonly ref: string) {}
  get(collection: string) { return this.cache.get(this.ref, collection); }
  set(collection: string, m: CollectionMeta) { this.cache.set(this.ref, collection, m); }
}
