// The bytes of small published files, in memory. A blob (<ref>/a/<sha256>) never changes once written, so a
// cached copy is always correct; entries are keyed by project and hash, so one project never reads another's
// bytes even when both published the same content. Bounded in bytes; the least recently read go first.

export interface BlobCacheOptions {
  /** all cached bytes together; 0 turns the cache off */
  maxBytes: number;
  /** larger files are always streamed from the backend */
  maxFileBytes: number;
}

export class BlobCache {
  readonly #entries = new Map<string, Buffer>();
  readonly #loading = new Map<string, Promise<Buffer>>();
  #bytes = 0;

  constructor(private readonly opts: BlobCacheOptions) {}

  /** Whether a file of this size is kept in memory at all. */
  fits(size: number): boolean {
    return this.opts.maxBytes > 0 && size <= this.opts.maxFileBytes && size <= this.opts.maxBytes;
  }

  has(ref: string, sha256: string): boolean {
    return this.#entries.has(`${ref}/${sha256}`);
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The cached bytes (as read now), or undefined (nothing is loaded). */
  peek(ref: string, sha256: string): Buffer | undefined {
    const key = `${ref}/${sha256}`;
    const hit = this.#entries.get(key);
    if (hit) this.#touch(key, hit);
    return hit;
  }

  /** The cached bytes, or `load`'s (one load however many reads miss at once), kept when they have `size` bytes. */
  get(ref: string, sha256: string, size: number, load: () => Promise<Buffer>): Buffer | Promise<Buffer> {
    const key = `${ref}/${sha256}`;
    const hit = this.#entries.get(key);
    if (hit) {
      this.#touch(key, hit);
      return hit;
    }
    let pending = this.#loading.get(key);
    if (!pending) {
      pending = load().finally(() => this.#loading.delete(key));
      this.#loading.set(key, pending);
      void pending.then((bytes) => {
        if (bytes.length === size) this.#add(key, bytes);
      }, () => undefined);
    }
    return pending;
  }

  /** most recently read last: Map keeps insertion order, so the first entry is the one to evict */
  #touch(key: string, hit: Buffer): void {
    this.#entries.delete(key);
    this.#entries.set(key, hit);
  }

  #add(key: string, bytes: Buffer): void {
    if (this.#entries.has(key) || !this.fits(bytes.length)) return;
    // a copy of exactly its size: a slice would keep a whole pooled or read-ahead buffer alive
    const own = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(own);
    this.#entries.set(key, own);
    this.#bytes += own.length;
    for (const [oldest, b] of this.#entries) {
      if (this.#bytes <= this.opts.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= b.length;
    }
  }
}
