import net from 'node:net';

/** where the pool connects: a TCP host and port, or a Unix socket path */
export type UpstreamTarget = { host: string; port: number } | { path: string };

/** opens a new connection to the target (TLS, say); the pool adds its own listeners */
export type Connect = (target: UpstreamTarget) => net.Socket;

const READ_BUFFER = Buffer.allocUnsafe(1024 * 1024);

/**
 * Keep-alive sockets to one upstream, reused most recently released first.
 * No timer is set or cleared per exchange (each setTimeout on a socket clears a timer, binds a function and
 * schedules another: two per exchange cost 2–4 % of the gateway's CPU per request). A socket keeps the exchange
 * timeout it was given until a caller asks for another, and idle sockets are closed by one sweep per pool.
 */
export class UpstreamPool {
  readonly #idle: net.Socket[] = [];
  /** the sweep during which each idle socket was released (a count, not a clock read), index for index with #idle */
  readonly #idleSince: number[] = [];
  #sweep: NodeJS.Timeout | null = null;
  /** sweeps run so far */
  #sweeps = 0;
  /** the Host header an exchange sends */
  readonly authority: string;

  /**
   * idleMs: a socket idle in the pool is closed after between half of this and all of it (0: never), which must
   * be less than the upstream's own idle timeout (else a socket it has just closed is handed out): our services
   * keep 65 s, workerd 5 s.
   * connect: how a new connection is opened; by default plain TCP (or a Unix socket) reading into a shared buffer.
   */
  constructor(readonly target: UpstreamTarget, private readonly idleMs = 30_000, private readonly maxIdle = 256, private readonly connect: Connect = plain) {
    this.authority = 'path' in target ? 'localhost' : `${target.host}:${target.port}`;
  }

  /**
   * An idle socket, or a new one; always a new one when fresh (a retry after a pooled socket turned out closed).
   * timeoutMs: the exchange's idle timeout ('timeout' on the socket after that long without a read or a write; 0:
   * none). Set only when it differs from the socket's current one, so an exchange that turns its timeout off
   * (a stream that may idle) must leave it so, and the next exchange on that socket sets it again.
   */
  acquire(fresh = false, timeoutMs = 0): { socket: net.Socket; reused: boolean } {
    while (!fresh && this.#idle.length) {
      const socket = this.#idle.pop()!;
      this.#idleSince.pop();
      if (!socket.destroyed && socket.readable && socket.writable) {
        if ((socket.timeout ?? 0) !== timeoutMs) socket.setTimeout(timeoutMs);
        return { socket, reused: true };
      }
    }
    const socket = this.connect(this.target);
    if (timeoutMs > 0) socket.setTimeout(timeoutMs);
    socket.on('error', () => undefined); // reported through the exchange that owns it (its 'close')
    socket.on('close', () => this.#forget(socket));
    return { socket, reused: false };
  }

  #forget(socket: net.Socket): void {
    const i = this.#idle.indexOf(socket);
    if (i >= 0) {
      this.#idle.splice(i, 1);
      this.#idleSince.splice(i, 1);
    }
  }

  release(socket: net.Socket): void {
    if (socket.destroyed || this.#idle.length >= this.maxIdle) return void socket.destroy();
    this.#idle.push(socket);
    this.#idleSince.push(this.#sweeps);
    if (this.idleMs > 0) this.#sweep ??= setInterval(() => this.#closeIdle(), this.idleMs / 2).unref();
  }

  /**
   * Every half of idleMs: closes the sockets released before the previous sweep, so idle for a whole interval or
   * more, and none longer than idleMs.
   */
  #closeIdle(): void {
    const cutoff = this.#sweeps++ - 1;
    let n = 0;
    while (n < this.#idle.length && this.#idleSince[n]! <= cutoff) n++; // oldest first
    const old = this.#idle.splice(0, n);
    this.#idleSince.splice(0, n);
    for (const s of old) s.destroy();
    if (this.#idle.length === 0 && this.#sweep) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  destroy(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = null;
    this.#idleSince.length = 0;
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
