// One client socket: decodes frames, answers heartbeats, and routes each message to its channel. Every
// failure becomes a phx_reply error (or is dropped when it cannot be addressed); the socket stays up.
import type { WebSocket } from 'ws';
import { DatabaseSilent } from '@basalt/db';
import { isPgConnectionError } from '@basalt/errors';
import type { Principal, Project } from '@basalt/tenancy';
import { reasons } from '../errors.js';
import { limitsOf, SecondBudget, type Limits } from '../domain/limits.js';
import type { Channel } from './channel.js';
import { decodeBinary, decodeText, encodeText, reply, type Message, type Vsn } from './frames.js';
import type { SocketDeps } from './deps.js';
import { joinChannel, leaveChannel, refreshToken } from './join.js';
import { clientBroadcast, presenceEvent } from './publish.js';

/** A slow reader is cut off rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export class Connection {
  readonly channels = new Map<string, Channel>();
  readonly events = new SecondBudget();
  readonly presenceBudget = new SecondBudget();
  lastSeen = Date.now();
  closed = false;
  /** joins under way that hold no channel yet (they count toward the socket's channels) */
  readonly joining = new Set<Message>();

  constructor(
    readonly ws: WebSocket,
    readonly vsn: Vsn,
    public project: Project,
    readonly principal: Principal,
    readonly deps: SocketDeps,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onFrame(data, isBinary));
  }

  get ref(): string {
    return this.project.ref;
  }

  /** The project's current settings (changes reach the registry through its invalidation channel). */
  limits(): Limits {
    const fresh = this.deps.registry.peek(this.ref);
    if (fresh) this.project = fresh;
    else if (fresh === undefined) void this.deps.registry.get(this.ref).catch(() => undefined);
    return limitsOf(this.project, this.deps.config);
  }

  send(m: Message): void {
    this.sendFrame(encodeText(m, this.vsn));
  }

  sendFrame(frame: string | Buffer): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ws.terminate();
      return;
    }
    this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  /**
   * Holds this socket's writes until uncork(): the frames of a batch of changes leave in one write, not one
   * system call each. Nested corks count (ws corks around each frame itself).
   */
  cork(): void {
    (this.ws as unknown as { _socket?: { cork(): void } })._socket?.cork();
  }

  uncork(): void {
    (this.ws as unknown as { _socket?: { uncork(): void } })._socket?.uncork();
  }

  delivered(): void {
    this.deps.meter?.count(this.ref, 'realtime', 'realtime_messages');
  }

  replyOk(m: Message, response: unknown = {}): void {
    this.send(reply(m.topic, m.joinRef, m.ref, 'ok', response));
  }

  replyError(m: Message, reason: string): void {
    this.send(reply(m.topic, m.joinRef, m.ref, 'error', { reason }));
  }

  #onFrame(data: Buffer, isBinary: boolean): void {
    this.lastSeen = Date.now();
    const m = isBinary ? decodeBinary(data) : decodeText(data.toString('utf8'), this.vsn);
    if (!m) {
      this.deps.log.debug({ ref: this.ref }, 'undecodable realtime frame dropped');
      return;
    }
    void this.#dispatch(m, data.length).catch((err: Error) => {
      this.deps.log.warn({ ref: this.ref, err: err.message, event: m.event }, 'realtime message failed');
      if (m.ref) this.replyError(m, err instanceof DatabaseSilent || isPgConnectionError(err) ? reasons.unavailable : reasons.unknown);
    });
  }

  async #dispatch(m: Message, frameBytes: number): Promise<void> {
    if (m.topic === 'phoenix') {
      if (m.event === 'heartbeat') return this.replyOk(m);
      return this.replyError(m, reasons.unknownEvent(m.event));
    }
    if (m.event === 'phx_join') return joinChannel(this, m, frameBytes);
    const ch = this.channels.get(m.topic);
    if (!ch) return this.replyError(m, reasons.unmatchedTopic);
    switch (m.event) {
      case 'phx_leave':
        this.replyOk(m);
        await leaveChannel(this, ch);
        this.send({ joinRef: ch.opts.joinRef, ref: m.ref, topic: m.topic, event: 'phx_close', payload: {} });
        return;
      case 'broadcast':
        return clientBroadcast(this, ch, m);
      case 'presence':
        return presenceEvent(this, ch, m);
      case 'access_token':
        return refreshToken(this, ch, m);
      default:
        return this.replyError(m, reasons.unknownEvent(m.event));
    }
  }

  /** Server-side shutdown of one channel: a system error, then phx_close (realtime-js reports CLOSED). */
  async shutdownChannel(ch: Channel, message: string): Promise<void> {
    ch.push('system', { extension: 'system', status: 'error', message, channel: ch.opts.subTopic });
    await leaveChannel(this, ch);
    this.send({ joinRef: ch.opts.joinRef, ref: null, topic: ch.topic, event: 'phx_close', payload: {} });
  }

  dropChannel(ch: Channel): void {
    void leaveChannel(this, ch).catch(() => undefined);
  }

  async onClose(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.channels.values()].map((ch) => leaveChannel(this, ch).catch(() => undefined)));
  }
}
