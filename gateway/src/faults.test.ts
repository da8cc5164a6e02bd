// A fault of the gateway's own, however it surfaces (thrown in the request listener, or a promise the request
// waited on), is a 500 for that request, in Kong's shape, and the process goes on serving the next one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import client from 'prom-client';
import type { Logger } from '@basalt/http';
import type { ProjectRegistry, Project } from '@basalt/tenancy';
import type { RateLimiter } from '@basalt/rate-limit';
import type { Redis } from 'ioredis';
import type { AssetCache } from './asset-cache.js';
import { loadConfig } from './config.js';
import { createGateway } from './gateway.js';

const REF = 'abcdefghijklmnopqrst';
const project = { ref: REF, settings: {}, quotas: {}, sleeping: false } as unknown as Project;

async function gatewayWith(registry: Partial<ProjectRegistry>) {
  const lines: string[] = [];
  const gateway = createGateway({
    config: loadConfig({ BASALT_MASTER_KEY: 'ab'.repeat(32) }),
    registry: registry as ProjectRegistry,
    limiter: { take: () => true } as unknown as RateLimiter,
    metrics: new client.Registry(),
    redis: {} as Redis,
    // a site read asks the asset cache first: here it fails, as a bug in it would
    assets: { keepBytes: 0, get: () => { throw new Error('asset cache bug'); } } as unknown as AssetCache,
    ready: async () => undefined,
    log: { error: (o: { err: Error }, msg: string) => void lines.push(`${msg}: ${o.err.message}`) } as unknown as Logger,
  });
  const server = createServer(gateway.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { base, lines, close: () => new Promise((r) => server.close(r)) };
}

test('a fault in the request listener is a 500, logged, and the next request is served', async () => {
  const g = await gatewayWith({ peek: () => project });
  try {
    const r = await fetch(`${g.base}/project/${REF}/index.html`);
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { message: 'An unexpected error occurred' });
    assert.deepEqual(g.lines, ['gateway fault: asset cache bug']);
    assert.equal((await fetch(`${g.base}/health`)).status, 200);
  } finally {
    await g.close();
  }
});

test('a fault after the request waited for its project (the registry was asked) is a 500 too, not an unhandled rejection', async () => {
  const g = await gatewayWith({ peek: () => undefined, get: async () => project });
  try {
    const r = await fetch(`${g.base}/project/${REF}/index.html`);
    assert.equal(r.status, 500);
    assert.equal((await fetch(`${g.base}/health`)).status, 200);
  } finally {
    await g.close();
  }
});
