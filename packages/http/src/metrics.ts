// Prometheus metrics: default process metrics plus one request histogram per service.
import client from 'prom-client';

/** A registry labelled with the service, holding the default process metrics (the gateway adds its own). */
export function createRegistry(service: string): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  return registry;
}

export function createMetrics(service: string) {
  const registry = createRegistry(service);
  const requests = new client.Histogram({
    name: 'basalt_http_request_duration_seconds',
    help: 'HTTP request duration by route group and status',
    labelNames: ['method', 'group', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return { registry, requests };
}

export type Metrics = ReturnType<typeof createMetrics>;
