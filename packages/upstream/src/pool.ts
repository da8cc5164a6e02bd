import net from 'node:net';

/** where the pool connects: a TCP host and port, or a Unix socket path */
export type UpstreamTarget = { host: string; port: number } | { path: string };

/** opens a new connection to the target (TLS, say); the pool adds its own listeners */
export type Connect = (target: UpstreamTarget) => net.Socket;

const READ_BUFFER = Buffer.allocUnsafe(1024 * 1024);

/** Keep-alive sockets to one upstream, reused most recently released first. */
export class UpstreamPool {
  readonly #idle: net.Socket[] = [];
  /** the Host header an exchange sends */
  readonly authority: string;

  /**
   * idleMs: how long a socket waits in the pool before we close it, which must be less than the upstream's own idle
   * timeout (else a socket it has just closed is handed out): our services keep 65 s, workerd 5 s.
   * connect: how a new connection is opened; by default plain TCP (or a Unix socket) reading into a shared buffer.
   */
  constructor(readonly target: UpstreamTarget, private readonly idleMs = 30_000, private readonly maxIdle = 256, private readonly connect: Connect = plain) {
    this.authority = 'path' in target ? 'localhost' : `${target.host}:${target.port}`;
  }

  /**
   * An idle socket, or a new one; always a new one when fresh (a retry after a pooled socket turned out closed).
   * timeoutMs: the exchange's own idle timeout ('timeout' on the socket), set here in place of the pool's (0: none);
   * one timer call per exchange instead of clearing the pool's and setting another.
   */
  acquire(fresh = false, timeoutMs = 0): { socket: net.Socket; reused: boolean } {
    while (!fresh && this.#idle.length) {
      const socket = this.#idle.pop()!;
      if (!socket.destroyed && socket.readable && socket.writable) {
        socket.setTimeout(timeoutMs);
        return { socket, reused: true };
      }
    }
    const socket = this.connect(this.target);
    if (timeoutMs > 0) socket.setTimeout(timeoutMs);
    socket.on('error', () => undefined); // reported through the exchange that owns it (its 'close')
    socket.on('close', () => this.#forget(socket));
    // An idle pooled socket is closed by us before the upstream's keep-alive timeout closes it under a request.
    socket.on('timeout', () => {
      if (this.#idle.includes(socket)) socket.destroy();
    });
    return { socket, reused: false };
  }

  #forget(socket: net.Socket): void {
    const i = this.#idle.indexOf(socket);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  release(socket: net.Socket): void {
    if (socket.destroyed || this.#idle.length >= this.maxIdle) return void socket.destroy();
    socket.setTimeout(this.idleMs);
    this.#idle.push(socket);
  }

  destroy(): void {
    for (const s of this.#idle.splice(0)) s.destroy();
  }
}

/**
 * Reads land in one shared 1 MB buffer (libuv reads and this callback run one at a time on this thread) and are
 * copied out at their exact size: a large body streams down in reads of up to 1 MB instead of 64 KB.
 */
function plain(target: UpstreamTarget): net.Socket {
  const socket: net.Socket = net.connect({
    ...target, noDelay: true,
    onread: { buffer: READ_BUFFER, callback: (n: number, b: Uint8Array) => (socket.emit('data', Buffer.from(b.subarray(0, n))), true) },
  } as net.NetConnectOpts);
  return socket;
}
