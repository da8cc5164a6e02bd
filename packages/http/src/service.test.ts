// The Fastify skeleton through app.inject: ids, health, readiness, metrics, bodies, validation and errors in
// the service's wire shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { z } from 'zod';
import { BasaltError, errors } from '@basalt/errors';
import { errorShapes } from './errors.js';
import { createLogger } from './logger.js';
import { defineRoute, registerRoutes } from './routes.js';
import { arrivedAt, createService } from './service.js';

function build(ready?: () => Promise<void>) {
  const service = createService({ name: 'demo', log: createLogger('demo', 'silent'), errorShape: errorShapes.postgrest, ready, forms: true, bodyLimit: 1024 });
  registerRoutes(service.app, [
    defineRoute({
      method: 'POST', url: '/echo/:id',
      schema: { params: z.object({ id: z.coerce.number().int() }), body: z.object({ name: z.string().min(1) }).strict() },
      handler: async (req, reply) => reply.code(201).send({ id: req.params.id, name: req.body.name }),
    }),
    defineRoute({ method: 'POST', url: '/form', handler: async (req) => req.body }),
    defineRoute({ method: 'GET', url: '/boom', handler: async () => { throw new Error('secret internals'); } }),
    defineRoute({ method: 'GET', url: '/teapot', handler: async () => { throw new BasaltError(418, 'teapot', 'I am a teapot', { headers: { 'x-why': 'tea' } }); } }),
    defineRoute({ method: 'GET', url: '/pg', handler: async () => { throw Object.assign(new Error('duplicate key'), { code: '23505' }); } }),
  ], '/v1');
  return service;
}

test('request ids are carried or made, and echoed', async () => {
  const { app } = build();
  const given = await app.inject({ url: '/health', headers: { 'x-request-id': 'req-1' } });
  assert.equal(given.headers['x-request-id'], 'req-1');
  assert.deepEqual(given.json(), { status: 'ok', service: 'demo' });
  const made = await app.inject({ url: '/health', headers: { 'x-request-id': 'bad id with spaces' } });
  assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
});

test('headersFor: the headers it gives for a URL are on every answer there, errors and 404s included', async () => {
  const service = createService({
    name: 'demo', log: createLogger('demo', 'silent'), errorShape: errorShapes.postgrest,
    headersFor: (url) => (url.startsWith('/files') ? { 'x-content-type-options': 'nosniff' } : null),
  });
  registerRoutes(service.app, [
    defineRoute({ method: 'GET', url: '/files/ok', handler: async () => ({ ok: true }) }),
    defineRoute({ method: 'GET', url: '/files/boom', handler: async () => { throw new BasaltError(418, 'teapot', 'I am a teapot'); } }),
  ]);
  for (const [url, status] of [['/files/ok', 200], ['/files/boom', 418], ['/files/none', 404]] as const) {
    const r = await service.app.inject({ url });
    assert.equal(r.statusCode, status, url);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', url);
    assert.ok(r.headers['x-request-id'], url);
  }
  assert.equal((await service.app.inject({ url: '/health' })).headers['x-content-type-options'], undefined);
});

test('readiness follows the dependency check and draining', async () => {
  let up = false;
  const { app, setDraining } = build(async () => { if (!up) throw new Error('postgres down'); });
  assert.equal((await app.inject({ url: '/ready' })).statusCode, 503);
  up = true;
  assert.equal((await app.inject({ url: '/ready' })).statusCode, 200);
  setDraining();
  assert.deepEqual((await app.inject({ url: '/ready' })).json(), { status: 'draining' });
});

test('validation, bad JSON, deep JSON and size limits are 4xx in the wire shape; routes see typed values', async () => {
  const { app } = build();
  const ok = await app.inject({ method: 'POST', url: '/v1/echo/7', payload: { name: 'x' } });
  assert.equal(ok.statusCode, 201);
  assert.deepEqual(ok.json(), { id: 7, name: 'x' });
  const cases: [string, Record<string, unknown>, number, RegExp][] = [
    ['missing field', { url: '/v1/echo/7', payload: {} }, 400, /body\.name/],
    ['unknown field', { url: '/v1/echo/7', payload: { name: 'x', extra: 1 } }, 400, /extra/],
    ['bad param', { url: '/v1/echo/abc', payload: { name: 'x' } }, 400, /params\.id/],
    ['invalid JSON', { url: '/v1/echo/7', payload: '{"name":', headers: { 'content-type': 'application/json' } }, 400, /Invalid JSON/],
    ['scalar JSON', { url: '/v1/echo/7', payload: '"x"', headers: { 'content-type': 'application/json' } }, 400, /object or an array/],
    ['deep JSON', { url: '/v1/echo/7', payload: '['.repeat(500) + ']'.repeat(500), headers: { 'content-type': 'application/json' } }, 400, /nested deeper/],
    ['too large', { url: '/v1/echo/7', payload: { name: 'x'.repeat(2000) } }, 413, /too large/],
    ['unknown media type', { url: '/v1/echo/7', payload: 'x', headers: { 'content-type': 'application/x-nope' } }, 415, /./],
  ];
  for (const [name, req, status, message] of cases) {
    const r = await app.inject({ method: 'POST', ...req });
    assert.equal(r.statusCode, status, `${name}: ${r.body}`);
    const body = r.json();
    assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'hint', 'message'], name);
    assert.match(body.message, message, name);
  }
});

test('forms parse flat; errors keep their status and headers; unknown errors are a generic 500; pg errors map', async () => {
  const { app } = build();
  assert.deepEqual((await app.inject({ method: 'POST', url: '/v1/form', payload: 'a=1&b=two', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).json(), { a: '1', b: 'two' });
  const tea = await app.inject({ url: '/v1/teapot' });
  assert.equal(tea.statusCode, 418);
  assert.equal(tea.headers['x-why'], 'tea');
  const boom = await app.inject({ url: '/v1/boom' });
  assert.equal(boom.statusCode, 500);
  assert.ok(!boom.body.includes('secret internals'));
  assert.equal((await app.inject({ url: '/v1/pg' })).statusCode, 409);
  const missing = await app.inject({ url: '/v1/nothing' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, errors.notFound('x').code);
});

test('metrics count requests by route pattern, not by raw path', async () => {
  const { app } = build();
  await app.inject({ method: 'POST', url: '/v1/echo/1', payload: { name: 'a' } });
  await app.inject({ method: 'POST', url: '/v1/echo/2', payload: { name: 'b' } });
  const text = (await app.inject({ url: '/metrics' })).body;
  assert.match(text, /basalt_http_request_duration_seconds_count\{service="demo",method="POST",group="\/v1\/echo\/:id",status="201"\} 2/);
});

test('failures and unknown routes carry the request id and are counted like any answer', async () => {
  const { app } = build();
  for (const [url, status] of [['/v1/boom', 500], ['/v1/teapot', 418], ['/v1/nothing', 404]] as const) {
    const r = await app.inject({ url, headers: { 'x-request-id': `id-${status}` } });
    assert.equal(r.statusCode, status, url);
    assert.equal(r.headers['x-request-id'], `id-${status}`, url);
  }
  const text = (await app.inject({ url: '/metrics' })).body;
  assert.match(text, /_count\{service="demo",method="GET",group="\/v1\/boom",status="500"\} 1/);
  assert.match(text, /_count\{service="demo",method="GET",group="\/v1\/teapot",status="418"\} 1/);
  assert.match(text, /_count\{service="demo",method="GET",group="unmatched",status="404"\} 1/);
});

test('a URL the router cannot decode is a 400 in the wire shape, with the request id', async () => {
  const { app } = build();
  const r = await app.inject({ url: '/v1/echo/%E0%A4%A', headers: { 'x-request-id': 'bad-url-1' } });
  assert.equal(r.statusCode, 400);
  assert.equal(r.headers['x-request-id'], 'bad-url-1');
  assert.deepEqual(Object.keys(r.json()).sort(), ['code', 'details', 'hint', 'message']);
});

test('request loggers are made only when a request logs, with its id and project', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  let made = 0;
  const child = log.child;
  // pino children inherit from their parent: `this` keeps each child's own bindings
  log.child = function (this: typeof log, ...a: Parameters<typeof child>) {
    made++;
    return child.apply(this, a);
  } as typeof log.child;
  const service = createService({ name: 'demo', log, errorShape: errorShapes.postgrest });
  service.app.get('/silent', async () => 'ok');
  service.app.get('/loud', async (req) => {
    req.log.info({ a: 1 }, 'hello');
    req.log.child({ b: 2 }).warn('from a child');
    return 'ok';
  });
  await service.app.ready();
  const before = made;
  assert.equal((await service.app.inject('/silent')).statusCode, 200);
  assert.equal(made, before, 'no child logger for a request that logs nothing');
  assert.equal((await service.app.inject({ url: '/loud', headers: { 'x-request-id': 'r1', 'x-basalt-ref': 'abcdefghijklmnopqrst' } })).statusCode, 200);
  const [hello, fromChild] = lines.filter((l) => l.msg === 'hello' || l.msg === 'from a child');
  assert.deepEqual([hello.reqId, hello.ref, hello.a], ['r1', 'abcdefghijklmnopqrst', 1]);
  assert.deepEqual([fromChild.reqId, fromChild.b], ['r1', 2]);
  await service.app.close();
});

test("Fastify's own warnings and a failed request's error are logged with the request's id", async () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const service = createService({ name: 'demo', log, errorShape: errorShapes.postgrest });
  service.app.get('/twice', (_req, reply) => {
    void reply.send('first');
    void reply.send('second');
  });
  service.app.get('/boom', async () => {
    throw new Error('secret internals');
  });
  assert.equal((await service.app.inject({ url: '/twice', headers: { 'x-request-id': 'w1' } })).body, 'first');
  assert.equal((await service.app.inject({ url: '/boom', headers: { 'x-request-id': 'b1' } })).statusCode, 500);
  const warned = lines.find((l) => l.level === 40);
  assert.equal(warned?.reqId, 'w1');
  assert.match(String((warned?.err as { code?: string })?.code), /FST_ERR_REP_ALREADY_SENT/);
  const failed = lines.find((l) => l.msg === 'request failed');
  assert.equal(failed?.reqId, 'b1');
  assert.match(String((failed?.err as { message?: string })?.message), /secret internals/);
  await service.app.close();
});

test('arrivedAt and the metrics time a request from its arrival', async () => {
  const service = createService({ name: 'demo', log: createLogger('demo', 'silent'), errorShape: errorShapes.postgrest });
  service.app.get('/slow', async (_req, reply) => {
    await new Promise((r) => setTimeout(r, 30));
    return { waited: performance.now() - arrivedAt(reply) };
  });
  const { waited } = (await service.app.inject('/slow')).json() as { waited: number };
  assert.ok(waited >= 25, `${waited} ms`);
  const text = (await service.app.inject('/metrics')).body;
  const sum = Number(/_sum\{service="demo",method="GET",group="\/slow",status="200"\} ([\d.e-]+)/.exec(text)?.[1]);
  assert.ok(sum >= 0.025, `${sum} s`);
  await service.app.close();
});
