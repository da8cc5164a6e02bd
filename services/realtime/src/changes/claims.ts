// The tables a capture holds for this replica's subscribers, counted: the first claim of a table starts its
// capture, and once the last subscriber releases it the table lingers for lingerMs (a quick re-claim keeps it)
// before its capture stops. Both captures (triggers, logical decoding) count this way; what starting and stopping
// mean is theirs.
export interface ClaimHooks {
  start(schema: string, table: string): Promise<void>;
  stop(schema: string, table: string): Promise<void>;
  /** a start failed and its claim was taken back */
  onStartFailed?(): void;
  onError(err: Error): void;
}

export class TableClaims {
  readonly #counts = new Map<string, number>();
  readonly #lingering = new Map<string, NodeJS.Timeout>();
  readonly #starting = new Map<string, Promise<void>>();

  constructor(private readonly lingerMs: number, private readonly hooks: ClaimHooks) {}

  static key = (schema: string, table: string) => JSON.stringify([schema, table]);
  static parse = (key: string) => JSON.parse(key) as [string, string];

  /** Resolves once the table is captured (from this commit on). */
  async claim(schema: string, table: string): Promise<void> {
    const key = TableClaims.key(schema, table);
    const n = this.#counts.get(key) ?? 0;
    this.#counts.set(key, n + 1);
    const linger = this.#lingering.get(key);
    if (linger) {
      clearTimeout(linger);
      this.#lingering.delete(key);
      return;
    }
    if (n > 0) return this.#starting.get(key);
    const started = this.hooks.start(schema, table).finally(() => this.#starting.delete(key));
    this.#starting.set(key, started);
    try {
      await started;
    } catch (e) {
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left > 0) this.#counts.set(key, left);
      else this.#counts.delete(key);
      this.hooks.onStartFailed?.();
      throw e;
    }
  }

  release(schema: string, table: string): void {
    const key = TableClaims.key(schema, table);
    const n = (this.#counts.get(key) ?? 1) - 1;
    if (n > 0) return void this.#counts.set(key, n);
    this.#counts.delete(key);
    const timer = setTimeout(() => {
      this.#lingering.delete(key);
      void this.hooks.stop(schema, table).catch(this.hooks.onError);
    }, this.lingerMs);
    timer.unref();
    this.#lingering.set(key, timer);
  }

  /** claimed now (not merely lingering) */
  claimed(schema: string, table: string): boolean {
    return this.#counts.has(TableClaims.key(schema, table));
  }

  held(schema: string, table: string): boolean {
    const key = TableClaims.key(schema, table);
    return this.#counts.has(key) || this.#lingering.has(key);
  }

  /** tables claimed or lingering */
  get active(): number {
    return this.#counts.size + this.#lingering.size;
  }

  get starting(): number {
    return this.#starting.size;
  }

  /** Forgets every claim (shutdown) and says which tables were held. */
  clear(): [string, string][] {
    for (const t of this.#lingering.values()) clearTimeout(t);
    const keys = [...new Set([...this.#counts.keys(), ...this.#lingering.keys()])];
    this.#counts.clear();
    this.#lingering.clear();
    this.#starting.clear();
    return keys.map(TableClaims.parse);
  }
}

/** A capture that counts its tables with TableClaims: what starting and stopping a table's capture do is the subclass's. */
export abstract class ClaimedCapture {
  protected readonly claims: TableClaims;

  constructor(lingerMs: number, onError: (err: Error) => void) {
    this.claims = new TableClaims(lingerMs, {
      start: (schema, table) => this.startCapture(schema, table),
      stop: (schema, table) => this.stopCapture(schema, table),
      onStartFailed: () => this.startFailed(),
      onError,
    });
  }

  protected abstract startCapture(schema: string, table: string): Promise<void>;
  protected abstract stopCapture(schema: string, table: string): Promise<void>;
  protected startFailed(): void {}

  /** Resolves once the table's changes are captured (from this commit on). */
  claim(schema: string, table: string): Promise<void> {
    return this.claims.claim(schema, table);
  }

  release(schema: string, table: string): void {
    this.claims.release(schema, table);
  }

  get active(): number {
    return this.claims.active;
  }
}
