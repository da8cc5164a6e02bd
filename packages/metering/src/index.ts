// Usage metering for every service: in-process counters flushed to platform.usage_hourly (see meter.ts).
import type pg from 'pg';
import type client from 'prom-client';
import { Meter } from './meter.js';
import { usageStore } from './store.js';

export { Meter, type Batch, type BatchWriter, type MeterOptions, type UsageRow } from './meter.js';
export { METRICS, PEAK_METRICS, type Metric, type MetricKind } from './metrics.js';
export { pruneFlushRecords, usageStore } from './store.js';

export interface StartMeteringOptions {
  control: pg.Pool;
  enabled: boolean;
  intervalMs: number;
  log: { warn: (obj: object, msg: string) => void };
  registry?: client.Registry;
}

/**
 * A service's meter, flushing to the control database. Until the platform has created the table (a service that
 * starts first), flushes fail and are retried with the counts kept; the warning is logged at most once a minute.
 */
export function startMetering(o: StartMeteringOptions): Meter {
  let warned = 0;
  return new Meter({
    write: usageStore(o.control),
    enabled: o.enabled,
    intervalMs: o.intervalMs,
    registry: o.registry,
    onError: (err, rows) => {
      if (Date.now() - warned < 60_000) return;
      warned = Date.now();
      o.log.warn({ err: err.message, rows }, 'usage not written yet; retrying');
    },
  }).start();
}
