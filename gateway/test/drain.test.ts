// SIGTERM with WebSockets tunnelled through the gateway: readiness fails at once, the tunnels are cut as the drain
// begins (a byte tunnel cannot send a close frame of its own; realtime-js reconnects, through another replica),
// and the process exits promptly instead of after the HTTP server's 25-second wait for its open connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { spawnService } from '@basalt/fleet';
import { createProject, testEnv } from '@basalt/testkit';

/** a WebSocket handshake through the gateway over a bare socket: resolves once the 101 is in, with the socket */
function upgraded(port: number, path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n` +
        `sec-websocket-version: 13\r\nsec-websocket-key: ${randomBytes(16).toString('base64')}\r\n\r\n`);
    });
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve(s);
      else reject(new Error(head.split('\r\n')[0]));
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

test('a stopping gateway fails readiness, cuts its WebSocket tunnels and exits promptly', async () => {
  const env = testEnv();
  const p = await createProject('gw-drain');
  const { port, url, child: gateway, exited } = await spawnService('gateway/src/main.ts',
    (port) => ({ ...env.fleetEnv, LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '300', BASALT_PUBLIC_URL: `http://localhost:${port}` }));
  const sockets = await Promise.all(Array.from({ length: 5 }, () => upgraded(port, `/project/${p.ref}/realtime/v1/websocket?apikey=${p.anonKey}&vsn=1.0.0`)));
  const closed = sockets.map((s) => new Promise<void>((r) => s.once('close', () => r())));

  const started = Date.now();
  gateway.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await fetch(`${url}/ready`).catch(() => null))?.status, 503, 'readiness fails while draining');
  await Promise.all(closed);
  assert.equal(await exited, 0);
  const took = Date.now() - started;
  assert.ok(took < 5_000, `exited ${took} ms after SIGTERM`);
});
