import { test } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { GatewayHistogram } from './request-metrics.js';

test('the gateway histogram renders as the prom-client Histogram it replaces', async () => {
  const ours = new client.Registry();
  const theirs = new client.Registry();
  for (const r of [ours, theirs]) r.setDefaultLabels({ service: 'gateway' });
  const histogram = new GatewayHistogram(ours);
  const reference = new client.Histogram({
    name: 'basalt_gateway_request_duration_seconds', help: 'Gateway request duration by upstream service and status',
    labelNames: ['service', 'status'] as const, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30], registers: [theirs],
  });
  const seen: [('rest' | 'functions'), number, number][] = [['rest', 200, 0.0004], ['rest', 200, 0.001], ['functions', 503, 0.2], ['rest', 404, 31], ['rest', 200, 0.03]];
  for (const [service, status, seconds] of seen) {
    histogram.observe(service, status, seconds);
    reference.observe({ service, status: String(status) }, seconds);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
});
