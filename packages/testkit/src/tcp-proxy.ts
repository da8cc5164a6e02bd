// A TCP proxy for tests of a dependency that lags, freezes or goes away (catalogue X5): what the server sends is
// held `delayMs`, or while stalled until resumed (connections stay open, nothing answers, as a frozen server or a
// black-holed network looks), cut() drops every connection through it, as a restart does, and stop() drops them and
// refuses new ones until start(), as a stopped server does.
import net from 'node:net';

export interface TcpProxy {
  /** host:port to connect to in place of the target */
  host: string;
  port: number;
  state: { delayMs: number; stalled: boolean };
  resume(): void;
  cut(): void;
  /** every connection dropped and new ones refused (ECONNREFUSED), until start() listens on the same port again */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpProxy(target: { host: string; port: number }, delayMs = 0): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const held: (() => void)[] = [];
  const state = { delayMs, stalled: false };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      const send = () => (state.delayMs > 0 ? setTimeout(() => client.writable && client.write(d), state.delayMs) : client.writable && client.write(d));
      if (state.stalled) held.push(send);
      else send();
    });
    const close = () => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  const stop = () => new Promise<void>((r) => {
    if (!server.listening) return r();
    server.close(() => r());
    cut();
  });
  return {
    host: '127.0.0.1',
    port,
    state,
    resume() {
      state.stalled = false;
      for (const send of held.splice(0)) send();
    },
    cut,
    stop,
    start: () => new Promise<void>((r, reject) => {
      if (server.listening) return r();
      server.once('error', reject).listen(port, '127.0.0.1', () => (server.off('error', reject), r()));
    }),
    close: stop,
  };
}
