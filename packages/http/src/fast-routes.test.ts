// Fast routes over a real socket (app.inject goes around the server): an answer before Fastify carries the
// request id and is counted in the metrics; a declined request, and every request once closing, is Fastify's;
// a route that throws answers in the wire shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasaltError } from '@basalt/errors';
import { errorShapes } from './errors.js';
import { createLogger } from './logger.js';
import { createService } from './service.js';

test('fast routes answer before Fastify, with request ids and metrics; what they decline or throw is handled as before', async () => {
  const service = createService({ name: 'demo', log: createLogger('demo', 'silent'), errorShape: errorShapes.basalt });
  const { app } = service;
  let hooks = 0;
  app.addHook('onRequest', (_req, _reply, done) => {
    hooks++;
    done();
  });
  app.get('/files/*', (_req, reply) => void reply.header('x-from', 'fastify').send('slow'));
  service.fastRoute({
    prefix: '/files/',
    group: '/files/*',
    answer: (req, res, id) => {
      if (req.url === '/files/boom') throw new BasaltError(418, 'teapot', 'I am a teapot');
      if (req.url !== '/files/hot') return false;
      res.writeHead(200, ['x-request-id', id, 'content-type', 'text/plain', 'content-length', '4']);
      res.end('fast');
      return true;
    },
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    assert.equal(app.server.keepAliveTimeout, 65_000, "the server keeps Fastify's settings");

    const hot = await fetch(`${base}/files/hot`, { headers: { 'x-request-id': 'given-1' } });
    assert.equal(await hot.text(), 'fast');
    assert.equal(hot.headers.get('x-request-id'), 'given-1');
    assert.equal(hooks, 0, 'no Fastify hook ran');
    const made = await fetch(`${base}/files/hot`);
    await made.text();
    assert.match(made.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);

    const cold = await fetch(`${base}/files/cold`, { headers: { 'x-request-id': 'given-2' } });
    assert.equal(await cold.text(), 'slow');
    assert.equal(cold.headers.get('x-from'), 'fastify');
    assert.equal(cold.headers.get('x-request-id'), 'given-2');
    assert.equal(hooks, 1);

    const boom = await fetch(`${base}/files/boom`, { headers: { 'x-request-id': 'given-3' } });
    assert.equal(boom.status, 418);
    assert.equal(boom.headers.get('x-request-id'), 'given-3');
    assert.deepEqual(await boom.json(), { code: 'teapot', message: 'I am a teapot' });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /basalt_http_request_duration_seconds_count\{service="demo",method="GET",group="\/files\/\*",status="200"\} 3/);
    assert.match(metrics, /basalt_http_request_duration_seconds_count\{service="demo",method="GET",group="\/files\/\*",status="418"\} 1/);
  } finally {
    await app.close();
  }
});
