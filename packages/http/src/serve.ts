// Listening and graceful shutdown: on SIGTERM, fail readiness, wait for load balancers, stop accepting,
// let in-flight requests finish, then close pools and queues and exit.
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Front } from './front.js';
import type { Duplex } from 'node:stream';
import type { Logger } from './logger.js';
import type { App } from './service.js';
import { pinTickObjectShape } from './tick-objects.js';

export interface ServeOptions {
  port: number;
  host?: string;
  log: Logger;
  drainDelayMs?: number;
  /** hard limit for in-flight requests to finish */
  shutdownTimeoutMs?: number;
  setDraining?: () => void;
  /**
   * Closes long-lived connections (WebSockets) as the drain begins, after the load-balancer delay: the HTTP server's
   * close waits for every connection, upgraded ones too, so sockets left open would hold it to shutdownTimeoutMs.
   */
  onDrain?: () => Promise<void>;
  onClose?: () => Promise<void>;
  /** for a raw handler (the gateway): HTTP upgrades, i.e. WebSockets */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** for a raw handler: listen through a Front (front.ts), which answers the common request without node:http */
  front?: boolean;
}

const isFastify = (app: unknown): app is App => typeof (app as App).inject === 'function' && typeof (app as App).listen === 'function';

/** A Fastify app (createService), or a raw node:http handler (the gateway's hot path). */
export async function serve(app: App | ((req: IncomingMessage, res: ServerResponse) => void), opts: ServeOptions): Promise<Server> {
  const host = opts.host ?? '0.0.0.0';
  pinTickObjectShape();
  let server: Server;
  let stopAccepting: () => Promise<unknown>;
  let front: Front | null = null;
  if (isFastify(app)) {
    await app.listen({ port: opts.port, host });
    server = app.server;
    stopAccepting = () => app.close();
  } else {
    const raw = createServer(app);
    if (opts.upgrade) raw.on('upgrade', opts.upgrade);
    raw.keepAliveTimeout = 65_000; // longer than common LB idle timeouts, so the LB closes first
    front = opts.front ? new Front(raw, app) : null;
    const listener = front ? front.server : raw;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(opts.port, host, () => resolve());
    });
    server = raw;
    stopAccepting = () => new Promise<void>((r) => listener.close(() => r()));
  }
  opts.log.info({ port: opts.port }, 'listening');
  drainOnSignal(server, stopAccepting, opts, front);
  return server;
}

/**
 * On SIGTERM/SIGINT: readiness 503, the load-balancer delay, long-lived connections closed (onDrain), in-flight
 * requests finish (bounded), then onClose. The same when the process that started this one over an IPC channel goes
 * away (the fleet's supervisor behind `npm start` and `npm test`, killed by SIGKILL or crashed), so no service
 * outlives it holding its port.
 */
function drainOnSignal(server: Server, stopAccepting: () => Promise<unknown>, opts: ServeOptions, front: Front | null): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    opts.log.info({ signal }, 'draining');
    opts.setDraining?.();
    await new Promise((r) => setTimeout(r, opts.drainDelayMs ?? 0));
    await opts.onDrain?.().catch((err) => opts.log.error({ err }, 'drain hook failed'));
    // A keep-alive socket whose request finishes after close() turns idle and would hold the exit: reap idle
    // sockets until every in-flight request is done.
    const closeIdle = () => {
      server.closeIdleConnections();
      front?.closeIdle();
    };
    const reaper = setInterval(closeIdle, 50);
    closeIdle();
    const timeout = new Promise<void>((r) => setTimeout(r, opts.shutdownTimeoutMs ?? 25_000).unref());
    await Promise.race([stopAccepting(), timeout]);
    clearInterval(reaper);
    server.closeAllConnections();
    front?.closeAll();
    await opts.onClose?.().catch((err) => opts.log.error({ err }, 'shutdown hook failed'));
    opts.log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  onParentGone(() => void stop('parent gone'));
}

/**
 * Calls `stop` once the process that started this one over an IPC channel goes away (the fleet's supervisor, killed
 * by SIGKILL or crashed). Nothing without a channel (a container's entry point); nothing in a cluster worker, whose
 * channel is the cluster's own and already ends it with its primary. The channel alone keeps nothing running.
 */
export function onParentGone(stop: () => void): void {
  if (!process.channel || cluster.isWorker) return;
  process.channel.unref();
  process.once('disconnect', stop);
}
