// basalt_gateway_request_duration_seconds by upstream service and status, observed on every proxied request: a
// FastHistogram (@basalt/http) indexed by service, then by status in an array.
import type client from 'prom-client';
import { FastHistogram, type Series } from '@basalt/http';
import type { Service } from './routes.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30];

type Labels = { service: Service; status: string };

export class GatewayHistogram extends FastHistogram<Labels> {
  readonly #index = new Map<Service, Series<Labels>[]>();

  constructor(registry: client.Registry) {
    super('basalt_gateway_request_duration_seconds', 'Gateway request duration by upstream service and status', BUCKETS);
    registry.registerMetric(this as unknown as client.Metric);
  }

  observe(service: Service, status: number, seconds: number): void {
    let byStatus = this.#index.get(service);
    if (byStatus === undefined) this.#index.set(service, (byStatus = []));
    const s = byStatus[status] ?? (byStatus[status] = this.series({ service, status: String(status) }));
    this.record(s, seconds);
  }
}
