// The WebSocket endpoint (/realtime/v1/websocket, and /socket/websocket as Realtime serves it): resolves
// the project, checks the apikey and the project's connection cap before the upgrade (refusals are HTTP
// JSON {"error": …} with Realtime's status and message), then hands the socket to a Connection.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { BasaltError } from '@basalt/errors';
import type { Project } from '@basalt/tenancy';
import { rtErrors } from '../errors.js';
import { checkToken, claimedRef } from '../domain/auth.js';
import { limitsOf } from '../domain/limits.js';
import { Connection } from './connection.js';
import type { SocketDeps } from './deps.js';
import type { Vsn } from './frames.js';

const PATHS = new Set(['/realtime/v1/websocket', '/realtime/v1', '/socket/websocket', '/websocket']);
const SWEEP_MS = 15_000;

function refuse(socket: Duplex, e: BasaltError): void {
  const body = JSON.stringify({ error: e.message });
  socket.end(`HTTP/1.1 ${e.status} ${e.status === 401 ? 'Unauthorized' : e.status === 404 ? 'Not Found' : e.status === 429 ? 'Too Many Requests' : e.status === 403 ? 'Forbidden' : 'Internal Server Error'}\r\n`
    + `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

const header = (req: IncomingMessage, name: string) => {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : null;
};

export function attachSockets(server: Server, deps: SocketDeps) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024, perMessageDeflate: false });
  const connections = new Set<Connection>();
  // the peak is the project's count across replicas (the same one its connection cap reads), kept as the hour's max
  const meterConnection = (ref: string) => {
    if (!deps.meter?.enabled) return;
    deps.meter.count(ref, 'realtime', 'realtime_connections');
    deps.replicas.connectionCount(ref).then((n) => deps.meter?.peak(ref, 'realtime', 'realtime_peak_connections', n), () => undefined);
  };

  async function admit(req: IncomingMessage): Promise<{ project: Project; conn: (ws: import('ws').WebSocket) => Connection }> {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = header(req, 'x-api-key') ?? header(req, 'apikey') ?? url.searchParams.get('apikey');
    // The gateway names the project (it strips x-basalt-* from clients); a direct caller is known by its key's ref.
    const ref = header(req, 'x-basalt-ref') ?? claimedRef(token);
    const project = ref ? await deps.registry.get(ref) : null;
    if (!project) throw rtErrors.tenantNotFound();
    const check = checkToken(project, token);
    if (!check.ok) {
      throw check.why === 'missing' ? rtErrors.apiKeyMissing() : check.why === 'expired' ? rtErrors.tokenExpired()
        : check.why === 'signature' ? rtErrors.badSignature() : check.why === 'fields' ? rtErrors.roleAndExp() : rtErrors.notJwt();
    }
    const max = limitsOf(project, deps.config).maxConnections;
    if (!(await deps.replicas.admitSocket(project.ref, max))) {
      throw rtErrors.tooManyConnections(max === project.quotas.realtime_connections ? max : null);
    }
    const vsn: Vsn = url.searchParams.get('vsn') === '2.0.0' ? '2.0.0' : '1.0.0';
    return { project, conn: (ws) => new Connection(ws, vsn, project, check.principal, deps) };
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node takes its own error listener off an upgrade's socket: without this one, a client that resets the
    // connection while it is refused or admitted raises an 'error' nobody handles, and the process exits.
    socket.on('error', () => undefined);
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
    if (!PATHS.has(path)) return refuse(socket, rtErrors.tenantNotFound());
    admit(req).then(
      ({ project, conn }) => {
        const release = () => void deps.replicas.releaseSocket(project.ref).catch(() => undefined);
        if (socket.destroyed) return release();
        // The admitted slot is the socket's until it closes, upgraded or not: ws answers a bad handshake (a bad
        // Sec-WebSocket-Key, a half-closed socket) itself and never calls back, which would keep the slot forever.
        socket.once('close', release);
        wss.handleUpgrade(req, socket, head, (ws) => {
          const c = conn(ws);
          connections.add(c);
          meterConnection(project.ref);
          ws.on('close', () => {
            connections.delete(c);
            void c.onClose();
          });
          ws.on('error', () => ws.terminate());
        });
      },
      (e: unknown) => {
        if ((e as BasaltError).status) return refuse(socket, e as BasaltError);
        deps.log.warn({ err: (e as Error).message }, 'realtime upgrade failed');
        refuse(socket, rtErrors.unavailable());
      },
    );
  }

  server.on('upgrade', upgrade);
  // Clients heartbeat every 25 s; a socket silent for much longer is gone without a close.
  const sweep = setInterval(() => {
    const cutoff = Date.now() - deps.config.REALTIME_IDLE_TIMEOUT_MS;
    for (const c of connections) if (c.lastSeen < cutoff) c.ws.terminate();
  }, SWEEP_MS);
  sweep.unref();

  return {
    connections,
    close: async () => {
      clearInterval(sweep);
      for (const c of connections) c.ws.close(1001, 'server shutting down');
      await new Promise((r) => setTimeout(r, 100));
      for (const c of connections) c.ws.terminate();
      wss.close();
    },
  };
}
