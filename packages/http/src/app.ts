// The Express skeleton every service shares: request id, per-request logger, health, readiness, metrics, errors.
import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { errors } from '@basalt/errors';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { errorMiddleware, type ErrorShape } from './errors.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      id: string;
      log: Logger;
    }
  }
}

export interface ServiceAppOptions {
  name: string;
  log: Logger;
  /** throws when a dependency (Postgres, Redis) is unreachable */
  ready?: () => Promise<void>;
  errorShape?: ErrorShape;
}

export interface ServiceApp {
  app: Express;
  metrics: Metrics;
  /** mounts the 404 and error handlers; call after the routes */
  finish: () => Express;
  /** flips /ready to 503 while the process drains */
  setDraining: () => void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestContext(log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    req.id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', req.id);
    const ref = req.headers['x-basalt-ref'];
    req.log = log.child({ reqId: req.id, ...(typeof ref === 'string' ? { ref } : {}) });
    next();
  };
}

export function createServiceApp(opts: ServiceAppOptions): ServiceApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.set('query parser', 'extended');
  const metrics = createMetrics(opts.name);
  let draining = false;

  app.use(requestContext(opts.log));
  app.use((req, res, next) => {
    const end = metrics.requests.startTimer({ method: req.method });
    res.on('finish', () => end({ group: req.path.split('/').slice(0, 3).join('/'), status: String(res.statusCode) }));
    next();
  });
  app.get('/health', (_req, res) => void res.json({ status: 'ok', service: opts.name }));
  app.get('/ready', async (req: Request, res) => {
    if (draining) return void res.status(503).json({ status: 'draining' });
    try {
      await opts.ready?.();
      res.json({ status: 'ready' });
    } catch (err) {
      req.log.warn({ err }, 'not ready');
      res.status(503).json({ status: 'unavailable', message: (err as Error).message });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const finish = () => {
    app.use((req, _res, next) => next(errors.notFound(`route ${req.method} ${req.path}`)));
    app.use(errorMiddleware(opts.log, opts.errorShape ?? ((e) => ({ code: e.code, message: e.message }))));
    return app;
  };
  return { app, metrics, finish, setDraining: () => void (draining = true) };
}
