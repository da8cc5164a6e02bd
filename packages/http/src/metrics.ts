// Prometheus metrics: default process metrics plus one request histogram per service.
import client from 'prom-client';

/**
 * How often the event loop's delay is sampled (ms). prom-client's default, 10, is a timer waking every process of
 * the fleet 100 times a second whatever it does: an idle fleet spent about half its CPU on it (bench/idle). A stall
 * of this length or longer is still seen in full, a shorter one in proportion to its length.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** A registry labelled with the service, holding the default process metrics (the gateway adds its own). */
export function createRegistry(service: string): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export interface Series<L> {
  labels: L;
  /** per bucket, not cumulative; the last one is +Inf */
  counts: number[];
  sum: number;
  count: number;
}

type Value<L> = { labels: Record<string, string | number>; sharedLabels: L; value: number; metricName: string; exemplar: null | undefined };

/**
 * A histogram observed on every request. It keeps its series in the subclass's own index (no labels object, label
 * validation or key string per request, as prom-client's Histogram#observe makes) and gives them in a prom-client
 * Histogram's shape only when the registry is read. A subclass finds or makes a series (`series`) and records in it.
 */
export abstract class FastHistogram<L extends Record<string, string>> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** in the order first seen, as prom-client lists them */
  #series: Series<L>[] = [];

  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[]) {}

  /** a new series, listed from now on */
  protected series(labels: L): Series<L> {
    const s = { labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
    this.#series.push(s);
    return s;
  }

  protected record(s: Series<L>, seconds: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && seconds > buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }

  /** what the Registry renders as text: labels of a series shared by its lines */
  getForPromString() {
    const name = this.name;
    const values: Value<L>[] = [];
    for (const s of this.#series) {
      let acc = 0;
      this.buckets.forEach((le, i) => values.push({ labels: { le }, sharedLabels: s.labels, value: (acc += s.counts[i]!), metricName: `${name}_bucket`, exemplar: null }));
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${name}_bucket`, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count`, exemplar: undefined });
    }
    return { name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** what getMetricsAsJSON gives: each line with all its labels */
  get() {
    const data = this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })),
    };
  }

  reset(): void {
    this.#series = [];
  }
}

type RequestLabels = { method: string; group: string; status: string };

/** basalt_http_request_duration_seconds by method, route group and status */
export class RequestHistogram extends FastHistogram<RequestLabels> {
  #index = new Map<string, Map<string, Map<number, Series<RequestLabels>>>>();

  constructor() {
    super('basalt_http_request_duration_seconds', 'HTTP request duration by route group and status', BUCKETS);
  }

  observe(method: string, group: string, status: number, seconds: number): void {
    let byGroup = this.#index.get(method);
    if (byGroup === undefined) this.#index.set(method, (byGroup = new Map()));
    let byStatus = byGroup.get(group);
    if (byStatus === undefined) byGroup.set(group, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (s === undefined) byStatus.set(status, (s = this.series({ method, group, status: String(status) })));
    this.record(s, seconds);
  }

  override reset(): void {
    this.#index.clear();
    super.reset();
  }
}

export function createMetrics(service: string) {
  const registry = createRegistry(service);
  const requests = new RequestHistogram();
  registry.registerMetric(requests as unknown as client.Metric);
  return { registry, requests };
}

export type Metrics = ReturnType<typeof createMetrics>;
