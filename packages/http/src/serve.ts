// Listening and graceful shutdown: on SIGTERM, fail readiness, wait for load balancers, stop accepting,
// let in-flight requests finish, then close pools and queues and exit.
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from './logger.js';

export interface ServeOptions {
  port: number;
  host?: string;
  log: Logger;
  drainDelayMs?: number;
  /** hard limit for in-flight requests to finish */
  shutdownTimeoutMs?: number;
  setDraining?: () => void;
  onClose?: () => Promise<void>;
}

export async function serve(app: Express | ((req: any, res: any) => void), opts: ServeOptions): Promise<Server> {
  const { createServer } = await import('node:http');
  const server = createServer(app as never);
  server.keepAliveTimeout = 65_000; // longer than common LB idle timeouts, so the LB closes first
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  opts.log.info({ port: opts.port }, 'listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    opts.log.info({ signal }, 'draining');
    opts.setDraining?.();
    await new Promise((r) => setTimeout(r, opts.drainDelayMs ?? 0));
    const closed = new Promise<void>((r) => server.close(() => r()));
    // Keep-alive connections that finish their last request after close() would otherwise hold the server open.
    const reaper = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    const timeout = new Promise<void>((r) => setTimeout(r, opts.shutdownTimeoutMs ?? 25_000).unref());
    await Promise.race([closed, timeout]);
    clearInterval(reaper);
    server.closeAllConnections();
    await opts.onClose?.().catch((err) => opts.log.error({ err }, 'shutdown hook failed'));
    opts.log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return server;
}
