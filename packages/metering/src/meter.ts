// Per-process usage counters: count() and peak() only touch memory (never I/O, never a throw), a cell per
// (hour, project, service, metric) found without making a key string (the gateway counts twice per request);
// a timer flushes them as one batch every few seconds. A batch that fails to
// be written is kept as it was (same id, so the store applies it once even if only the acknowledgement was lost)
// and tried again first; counts arriving meanwhile keep accumulating, and new keys beyond maxKeys are dropped
// and counted rather than growing memory without bound.
import { randomUUID } from 'node:crypto';
import client from 'prom-client';
import { METRICS, type Metric, type MetricKind } from './metrics.js';

const HOUR_MS = 3_600_000;

export interface UsageRow {
  ref: string;
  /** whole hours since the epoch (UTC) */
  hour: number;
  service: string;
  metric: string;
  kind: MetricKind;
  value: number;
}

export interface Batch {
  id: string;
  rows: UsageRow[];
}

/** Applies a batch at most once (by its id); throws to have it retried. */
export type BatchWriter = (batch: Batch) => Promise<void>;

export interface MeterOptions {
  write: BatchWriter;
  /** false: every call is a no-op (metering off) */
  enabled?: boolean;
  intervalMs?: number;
  /** distinct (hour, project, service, metric) keys held between flushes */
  maxKeys?: number;
  onError?: (err: Error, rows: number) => void;
  registry?: client.Registry;
  now?: () => number;
}

export class Meter {
  readonly enabled: boolean;
  /** hour → project → its cells, a few per project (one per service and metric it was counted under) */
  #pending = new Map<number, Map<string, UsageRow[]>>();
  #cells = 0;
  #unsent: Batch | null = null;
  #flushing: Promise<void> | null = null;
  #failures = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  readonly #o: Required<Omit<MeterOptions, 'registry' | 'onError'>> & Pick<MeterOptions, 'onError'>;
  readonly #dropped: client.Counter;
  readonly #failed: client.Counter;

  constructor(o: MeterOptions) {
    this.enabled = o.enabled ?? true;
    this.#o = { enabled: this.enabled, intervalMs: 5_000, maxKeys: 50_000, now: Date.now, ...o };
    const registers = o.registry ? [o.registry] : [];
    this.#dropped = new client.Counter({ name: 'basalt_metering_dropped_keys_total', help: 'usage counts dropped: new keys beyond the pending cap', registers });
    this.#failed = new client.Counter({ name: 'basalt_metering_flush_failures_total', help: 'usage flushes that failed and will be retried', registers });
    const pending: client.Gauge = new client.Gauge({
      name: 'basalt_metering_pending_keys', help: 'usage keys waiting to be written', registers, collect: () => pending.set(this.pendingKeys),
    });
  }

  /**
   * Adds to a counter of this hour (requests, bytes, tokens). Non-positive and non-finite values are ignored.
   * `at`: when it happened (ms since the epoch), when the caller has read the clock already; else now.
   */
  count(ref: string, service: string, metric: Metric, value = 1, at?: number): void {
    if (this.enabled && value > 0 && value < Infinity) this.#add(ref, service, metric, value, 'sum', at);
  }

  /** Records a sampled level (bytes stored, connections held): the hour keeps its highest value. */
  peak(ref: string, service: string, metric: Metric, value: number): void {
    if (this.enabled && value >= 0 && value < Infinity) this.#add(ref, service, metric, value, 'max');
  }

  #add(ref: string, service: string, metric: Metric, value: number, kind: MetricKind, at?: number): void {
    const hour = Math.floor((at ?? this.#o.now()) / HOUR_MS);
    const projects = this.#pending.get(hour);
    const cells = projects?.get(ref);
    if (cells) {
      for (const cell of cells) {
        if (cell.service !== service || cell.metric !== metric) continue;
        cell.value = cell.kind === 'max' ? Math.max(cell.value, value) : cell.value + value;
        return;
      }
    }
    if (this.#cells >= this.#o.maxKeys) return void this.#dropped.inc();
    const cell = { ref, hour, service, metric, kind: METRICS[metric]?.kind ?? kind, value };
    if (cells) cells.push(cell);
    else if (projects) projects.set(ref, [cell]);
    else this.#pending.set(hour, new Map([[ref, [cell]]]));
    this.#cells++;
  }

  /** keys not yet written (pending and a failed batch) */
  get pendingKeys(): number {
    return this.#cells + (this.#unsent?.rows.length ?? 0);
  }

  /** Writes what is pending; resolves when done (a failure is reported through onError and kept for later). */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushOnce().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    if (this.#unsent && !(await this.#send(this.#unsent))) return;
    this.#unsent = null;
    if (this.#cells === 0) return;
    const cells = [...this.#pending.values()].flatMap((projects) => [...projects.values()].flat());
    this.#pending = new Map();
    this.#cells = 0;
    // sorted keys give every writer the same lock order on the table; sums round to whole units only here
    const key = (r: UsageRow) => `${r.hour}\u0001${r.ref}\u0001${r.service}\u0001${r.metric}`;
    const rows = cells
      .map((row) => ({ key: key(row), row }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ row }) => ({ ...row, value: Math.round(row.value) }))
      .filter((r) => r.kind === 'max' || r.value > 0);
    if (rows.length === 0) return;
    const batch = { id: randomUUID(), rows };
    if (!(await this.#send(batch))) this.#unsent = batch;
  }

  async #send(batch: Batch): Promise<boolean> {
    try {
      await this.#o.write(batch);
      this.#failures = 0;
      return true;
    } catch (err) {
      this.#failures++;
      this.#failed.inc();
      this.#o.onError?.(err as Error, batch.rows.length);
      return false;
    }
  }

  /** Flushes every intervalMs (backing off up to a minute while flushes fail). */
  start(): this {
    if (!this.enabled || this.#timer) return this;
    const schedule = () => {
      if (this.#stopped) return;
      const delay = Math.min(60_000, this.#o.intervalMs * 2 ** Math.min(this.#failures, 6));
      this.#timer = setTimeout(() => void this.flush().finally(schedule), delay);
      this.#timer.unref();
    };
    schedule();
    return this;
  }

  /** On shutdown: stops the timer and writes what is left (a few tries). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (let i = 0; i < 3 && this.pendingKeys > 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      await this.flush();
    }
  }
}
