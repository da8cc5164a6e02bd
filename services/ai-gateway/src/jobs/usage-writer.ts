// Usage rows are written off the request path: pushed into memory, flushed in one INSERT per batch every
// AI_USAGE_FLUSH_MS or AI_USAGE_BATCH rows. A failed flush keeps its rows and tries again (the insert skips
// request ids already written, so a retry after a lost acknowledgement writes nothing twice); if the database
// stays away, the oldest rows beyond AI_USAGE_MAX_PENDING are dropped and counted, never the process.
import client from 'prom-client';
import type { KeysDb } from '../db/keys.js';
import type { UsageDb, UsageRecord } from '../db/usage.js';

export interface UsageWriterOptions {
  batch: number;
  flushMs: number;
  maxPending: number;
  onError: (err: Error, rows: number) => void;
  registry?: client.Registry;
}

export function startUsageWriter(usage: UsageDb, keys: KeysDb, o: UsageWriterOptions) {
  let pending: UsageRecord[] = [];
  let flushing: Promise<void> | null = null;
  let failures = 0;
  const registers = o.registry ? [o.registry] : [];
  const written = new client.Counter({ name: 'basalt_ai_usage_rows_written_total', help: 'AI usage rows written', registers });
  const dropped = new client.Counter({ name: 'basalt_ai_usage_rows_dropped_total', help: 'AI usage rows dropped: beyond the pending cap while the database was unreachable, or refused for their data', registers });
  new client.Gauge({ name: 'basalt_ai_usage_rows_pending', help: 'AI usage rows waiting to be written', registers, collect() { this.set(pending.length); } });

  // A row the database refuses for its data (SQLSTATE class 22 or 23) would fail every retry of its batch: the
  // batch is written row by row instead and the refused rows are dropped and counted. Anything else (the database
  // away, a timeout) is thrown for the retry.
  async function insertOrSkipBad(rows: UsageRecord[]): Promise<void> {
    try {
      await usage.insert(rows);
    } catch (err) {
      if (!isDataError(err)) throw err;
      for (const row of rows) {
        try {
          await usage.insert([row]);
        } catch (rowErr) {
          if (!isDataError(rowErr)) throw rowErr;
          dropped.inc();
          o.onError(rowErr as Error, 1);
        }
      }
    }
  }

  async function flushOnce(): Promise<void> {
    while (pending.length > 0) {
      const rows = pending.slice(0, o.batch);
      try {
        await insertOrSkipBad(rows);
        pending = pending.slice(rows.length);
        written.inc(rows.length);
        failures = 0;
        const ids = [...new Set(rows.map((r) => r.key_id).filter((id): id is string => id !== null))];
        await keys.touch(ids).catch(() => undefined);
      } catch (err) {
        failures++;
        o.onError(err as Error, rows.length);
        return;
      }
    }
  }

  const flush = (): Promise<void> => {
    flushing ??= flushOnce().finally(() => (flushing = null));
    return flushing;
  };

  // after failures the timer backs off (up to ~30 s) so an outage is not hammered
  let timer: NodeJS.Timeout;
  const schedule = () => {
    timer = setTimeout(() => void flush().finally(schedule), Math.min(30_000, o.flushMs * 2 ** Math.min(failures, 7)));
    timer.unref();
  };
  schedule();

  return {
    push(r: UsageRecord): void {
      pending.push(r);
      if (pending.length > o.maxPending) {
        const excess = pending.length - o.maxPending;
        pending = pending.slice(excess);
        dropped.inc(excess);
      }
      if (pending.length >= o.batch && failures === 0) void flush();
    },
    /** rows not yet written */
    get pending(): number {
      return pending.length;
    },
    flush,
    /** on shutdown: stop the timer and write what is left (a few tries) */
    async stop(): Promise<void> {
      clearTimeout(timer);
      for (let i = 0; i < 3 && pending.length > 0; i++) {
        await flush();
        if (pending.length > 0) await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

const isDataError = (err: unknown): boolean => /^2[23]/.test(String((err as { code?: unknown }).code ?? ''));

export type UsageWriter = ReturnType<typeof startUsageWriter>;
