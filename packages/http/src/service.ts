// The Fastify skeleton every service shares: request ids carried from the gateway, a logger per request (made only
// if the request logs; no per-request log line), JSON and form bodies with size and depth limits, zod validation,
// /health, /ready, /metrics, and one error handler that renders every failure as a BasaltError in the service's wire
// shape.
import { createServer, type ServerOptions } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault, type FastifyBaseLogger } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BasaltError, errors, fromPgConnectionError, fromPgError } from '@basalt/errors';
import { useFormBodies, useJsonBodies, type JsonOptions } from './body-parsers.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ValidationFailed, zodValidator, type ZodTypeProvider } from './zod-provider.js';
import { LazyLogger } from './lazy-logger.js';
import { fastRouting, type FastRoute, type FastRouter } from './fast-routes.js';
import { requestIdOf } from './request-id.js';

/** Renders an error in the wire shape of the API a service is compatible with. */
export type WireShape = (e: BasaltError, req: FastifyRequest) => unknown;

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface ServiceOptions {
  name: string;
  log: Logger;
  /** throws when a dependency (Postgres, Redis) is unreachable */
  ready?: () => Promise<void>;
  errorShape: WireShape;
  /** maps a failed request validation to this API's error (default: 400 validation_failed) */
  validationError?: (message: string, issues: unknown) => BasaltError;
  /** bytes; routes may set their own */
  bodyLimit?: number;
  json?: JsonOptions;
  /** parse application/x-www-form-urlencoded bodies too */
  forms?: boolean;
  /**
   * Headers every answer of some requests carries, errors and 404s included (storage's nosniff): set as each
   * request arrives, with the request id, at no hook's cost.
   */
  headersFor?: (url: string) => Record<string, string> | null;
}

export interface Service {
  app: App;
  metrics: Metrics;
  /** flips /ready to 503 while the process drains */
  setDraining: () => void;
  /** answers some requests before Fastify (fast-routes.ts); those it declines reach Fastify unchanged */
  fastRoute: (route: FastRoute) => void;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function toBasaltError(err: unknown, opts: ServiceOptions): BasaltError {
  if (err instanceof BasaltError) return err;
  if (err instanceof ValidationFailed) return (opts.validationError ?? errors.validation)(err.message, err.issues);
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new BasaltError(413, 'payload_too_large', 'Request body is too large');
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new BasaltError(415, 'unsupported_media_type', e.message ?? 'Unsupported media type');
  if (e?.code === 'FST_ERR_VALIDATION') return (opts.validationError ?? errors.validation)(e.message ?? 'Invalid request', undefined);
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new BasaltError(e.statusCode, 'bad_request', e.message ?? 'Bad request');
  }
  // a lost database first: a server shutting down or starting up says so with a SQLSTATE of its own
  const unreachable = fromPgConnectionError(err);
  if (unreachable) return unreachable;
  const mapped = fromPgError(err);
  return mapped instanceof BasaltError ? mapped : errors.internal(err);
}

/** when a request arrived (performance.now()), for its duration in the metrics */
const kArrived = Symbol('basalt.arrived');
/** the Fastify request a response answers, for its route group in the metrics */
const kRequest = Symbol('basalt.request');
type Observed = ServerResponse & { [kArrived]: number; [kRequest]: FastifyRequest };

/**
 * What every request passes, at the one call Fastify makes on each one anyway (its LogController's
 * incomingRequest): its logger, the request id (and the service's headersFor) set on the reply, and a count in the
 * metrics once it is answered. Fastify is given no logger of its own: with one, it builds a child logger for every
 * request (bindings, a factory call, a check of the result) and two response listeners to time it, whether or not
 * anything logs. Here a request's logger is a LazyLogger, made into a child only if the request logs, and one
 * 'finish' listener shared by every response counts it. Fastify's own warnings (a reply sent twice, a stream
 * failing) go through request.log and reply.log, which are that logger.
 */
class RequestObserver extends LogController {
  /** a 'finish' listener shared by every response (`this` is the response) */
  private readonly answered: (this: Observed) => void;

  constructor(metrics: Metrics, private readonly log: Logger, private readonly headersFor: ServiceOptions['headersFor']) {
    super({ disableRequestLogging: true, requestIdLogLabel: 'reqId' });
    this.answered = function () {
      const req = this[kRequest];
      metrics.requests.observe(req.method, req.routeOptions.url ?? 'unmatched', this.statusCode, (performance.now() - this[kArrived]) / 1000);
    };
  }

  override incomingRequest(req: FastifyRequest, reply: FastifyReply): void {
    const log = new LazyLogger(this.log, req.id, req.raw);
    req.log = log;
    reply.log = log;
    reply.header('x-request-id', req.id);
    const headers = this.headersFor?.(req.url);
    if (headers) reply.headers(headers);
    const res = reply.raw as Observed;
    res[kArrived] = performance.now();
    res[kRequest] = req;
    res.on('finish', this.answered);
  }
}

/**
 * When the request arrived at the service, on performance.now()'s clock (Fastify's reply.elapsedTime is timed only
 * where Fastify has a logger or the route an onResponse hook).
 */
export function arrivedAt(reply: FastifyReply): number {
  return (reply.raw as Partial<Observed>)[kArrived] ?? performance.now();
}

/** Reads and drops the rest of a request body: at most 1 GiB or 30 s, after which the connection is cut. */
function readOff(body: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (body.readableEnded || body.destroyed) return resolve();
    let left = 1024 ** 3;
    const cut = () => {
      body.destroy();
      resolve();
    };
    const timer = setTimeout(cut, 30_000);
    body.on('data', (c: Buffer) => {
      if ((left -= c.length) < 0) cut();
    });
    body.once('end', resolve).once('close', resolve).once('error', () => resolve());
    body.once('close', () => clearTimeout(timer)).once('end', () => clearTimeout(timer));
    body.resume();
  });
}

export function createService(opts: ServiceOptions): Service {
  const metrics = createMetrics(opts.name);
  const fast: FastRouter = { routes: [], enabled: true };
  const fastHooks = {
    requestId: requestIdOf,
    observe: (method: string, group: string, status: number, seconds: number) => metrics.requests.observe(method, group, status, seconds),
    fail: (req: IncomingMessage, res: ServerResponse, id: string, err: unknown) => {
      const e = toBasaltError(err, opts);
      if (e.status >= 500) opts.log.error({ err: e.cause ?? err, code: e.code, reqId: id }, 'request failed');
      // the wire shapes read the method, URL and headers, which the raw request has too
      const body = JSON.stringify(opts.errorShape(e, req as unknown as FastifyRequest));
      res.writeHead(e.status, { ...e.headers, 'x-request-id': id, 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  };
  const app = Fastify({
    // the server Fastify would make, with the fast routes (if any) in front of its handler
    serverFactory: (handler, given) => {
      // Fastify's options with its defaults applied
      const o = given as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket: number };
      const server = createServer(o.http ?? {}, fastRouting(fast, fastHooks, handler));
      server.keepAliveTimeout = o.keepAliveTimeout;
      server.requestTimeout = o.requestTimeout;
      server.setTimeout(o.connectionTimeout);
      if (o.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
      return server;
    },
    // no logger of Fastify's own, and no log line per request on the hot path (access logs are the gateway's,
    // ACCESS_LOG): each request's logger is set by the RequestObserver
    logController: new RequestObserver(metrics, opts.log, opts.headersFor),
    genReqId: requestIdOf,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    trustProxy: 'loopback, linklocal, uniquelocal',
    routerOptions: { maxParamLength: 2048 },
    keepAliveTimeout: 65_000, // longer than common load-balancer idle timeouts, so the balancer closes first
    return503OnClosing: true,
    // what the router refuses before any hook runs (a malformed percent-encoding): still the API's own shape
    frameworkErrors: (err, req, reply) => {
      const e = new BasaltError(400, 'bad_request', err.code === 'FST_ERR_BAD_URL' ? 'Malformed URL' : err.message);
      const r = reply as unknown as FastifyReply;
      void r.code(e.status).header('x-request-id', req.id).type(JSON_TYPE).send(opts.errorShape(e, req as FastifyRequest));
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(zodValidator);
  useJsonBodies(app, opts.json);
  if (opts.forms) useFormBodies(app);

  let draining = false;

  // what load balancers poll: a constant body, sent without a promise or a serialisation per call
  const health = JSON.stringify({ status: 'ok', service: opts.name });
  app.get('/health', (_req, reply) => void reply.type(JSON_TYPE).send(health));
  app.get('/ready', async (req, reply) => {
    if (draining) return reply.code(503).send({ status: 'draining' });
    try {
      await opts.ready?.();
      return { status: 'ready' };
    } catch (err) {
      req.log.warn({ err }, 'not ready');
      return reply.code(503).send({ status: 'unavailable', message: (err as Error).message });
    }
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.setNotFoundHandler(async (req) => {
    throw errors.notFound(`route ${req.method} ${req.url.split('?')[0]}`);
  });
  app.setErrorHandler(async (err, req, reply) => {
    // Fastify refuses an oversized body mid-stream and would close the connection on a client (the gateway) still
    // sending it, which sees a reset instead of the 413. Read the rest off first (bounded), then answer on a
    // connection kept open, as Express did.
    if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      reply.removeHeader('connection');
      await readOff(req.raw);
    }
    const e = toBasaltError(err, opts);
    if (e.status >= 500) req.log.error({ err: e.cause ?? err, code: e.code }, 'request failed');
    else req.log.debug({ code: e.code, status: e.status }, 'request rejected');
    if (reply.raw.headersSent) return void reply.raw.destroy();
    if (e.headers) reply.headers(e.headers);
    return reply.code(e.status).type(JSON_TYPE).send(opts.errorShape(e, req));
  });

  // once closing, Fastify answers everything (503s while it drains)
  app.addHook('preClose', (done) => {
    fast.enabled = false;
    done();
  });
  return {
    app: app as unknown as App, metrics, setDraining: () => void (draining = true),
    fastRoute: (route) => void fast.routes.push(route),
  };
}
