// The tables a capture holds for this replica's subscribers, counted: the first claim of a table starts its
// capture, and once the last subscriber releases it the table lingers for lingerMs (a quick re-claim keeps it)
// before its capture stops. Both captures (triggers, logical decoding) count this way; what starting and stopping
// a table's capture mean is theirs.
const key = (schema: string, table: string) => JSON.stringify([schema, table]);

export abstract class ClaimedCapture {
  readonly #counts = new Map<string, number>();
  readonly #lingering = new Map<string, NodeJS.Timeout>();
  readonly #starting = new Map<string, Promise<void>>();

  constructor(private readonly lingerMs: number, private readonly reportError: (err: Error) => void) {}

  protected abstract startCapture(schema: string, table: string): Promise<void>;
  protected abstract stopCapture(schema: string, table: string): Promise<void>;
  /** a start failed and its claim was taken back */
  protected startFailed(): void {}

  /** Resolves once the table's changes are captured (from this commit on). */
  async claim(schema: string, table: string): Promise<void> {
    const k = key(schema, table);
    const n = this.#counts.get(k) ?? 0;
    this.#counts.set(k, n + 1);
    const linger = this.#lingering.get(k);
    if (linger) {
      clearTimeout(linger);
      this.#lingering.delete(k);
      return;
    }
    if (n > 0) return this.#starting.get(k);
    const started = this.startCapture(schema, table).finally(() => this.#starting.delete(k));
    this.#starting.set(k, started);
    try {
      await started;
    } catch (e) {
      const left = (this.#counts.get(k) ?? 1) - 1;
      if (left > 0) this.#counts.set(k, left);
      else this.#counts.delete(k);
      this.startFailed();
      throw e;
    }
  }

  release(schema: string, table: string): void {
    const k = key(schema, table);
    const n = (this.#counts.get(k) ?? 1) - 1;
    if (n > 0) return void this.#counts.set(k, n);
    this.#counts.delete(k);
    const timer = setTimeout(() => {
      this.#lingering.delete(k);
      void this.stopCapture(schema, table).catch(this.reportError);
    }, this.lingerMs);
    timer.unref();
    this.#lingering.set(k, timer);
  }

  /** tables claimed or lingering */
  get active(): number {
    return this.#counts.size + this.#lingering.size;
  }

  /** claimed now (not merely lingering) */
  protected claimed(schema: string, table: string): boolean {
    return this.#counts.has(key(schema, table));
  }

  protected held(schema: string, table: string): boolean {
    const k = key(schema, table);
    return this.#counts.has(k) || this.#lingering.has(k);
  }

  protected get starting(): number {
    return this.#starting.size;
  }

  /** Forgets every claim (shutdown) and says which tables were held. */
  protected clearClaims(): [string, string][] {
    for (const t of this.#lingering.values()) clearTimeout(t);
    const keys = [...new Set([...this.#counts.keys(), ...this.#lingering.keys()])];
    this.#counts.clear();
    this.#lingering.clear();
    this.#starting.clear();
    return keys.map((k) => JSON.parse(k) as [string, string]);
  }
}
