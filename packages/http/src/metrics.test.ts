// The request histogram renders exactly what a prom-client Histogram with the same observations renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { createRegistry, EVENT_LOOP_SAMPLE_MS, RequestHistogram } from './metrics.js';

test('the request histogram reads as a prom-client Histogram, as text and as JSON', async () => {
  const registry = (h: (r: client.Registry) => void) => {
    const r = new client.Registry();
    r.setDefaultLabels({ service: 'demo' });
    h(r);
    return r;
  };
  let reference!: client.Histogram<'method' | 'group' | 'status'>;
  const ours = new RequestHistogram();
  const a = registry((r) => {
    reference = new client.Histogram({
      name: ours.name, help: ours.help, labelNames: ['method', 'group', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [r],
    });
  });
  const b = registry((r) => r.registerMetric(ours as unknown as client.Metric));
  const seen: [string, string, number, number][] = [
    ['GET', '/health', 200, 0.0004], ['POST', '/v1/x/:id', 201, 0.3], ['GET', 'unmatched', 404, 12],
    ['GET', '/health', 200, 0.001], ['GET', '/health', 200, 0.0101], ['POST', '/v1/x/:id', 201, 2.5],
  ];
  for (const [method, group, status, seconds] of seen) {
    reference.observe({ method, group, status: String(status) }, seconds);
    ours.observe(method, group, status, seconds);
  }
  assert.equal(await b.metrics(), await a.metrics());
  assert.deepEqual(await b.getMetricsAsJSON(), await a.getMetricsAsJSON());
});

test('sampled every 100 ms, the event loop delay still shows a stall of a quarter second', async () => {
  const registry = createRegistry('demo');
  await new Promise((r) => setTimeout(r, 3 * EVENT_LOOP_SAMPLE_MS));
  const until = performance.now() + 250;
  while (performance.now() < until); // the stall
  await new Promise((r) => setTimeout(r, 2 * EVENT_LOOP_SAMPLE_MS));
  const metrics = await registry.getMetricsAsJSON(); // collected together: the delay gauges are set as the lag is read
  const max = metrics.find((m) => m.name === 'nodejs_eventloop_lag_max_seconds')!.values[0]!.value;
  assert.ok(max >= 0.2, `the 250 ms stall reads as ${max} s`);
  registry.clear();
});
