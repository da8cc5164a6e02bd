// One joined channel of one socket: its topic, join ref, options and who it runs as. It is a hub listener
// (broadcasts, presence diffs) and a postgres-changes subscriber; leaving undoes every registration.
import type { Principal } from '@basalt/tenancy';
import { frameFor, type Listener, type Outbound } from '../domain/hub.js';
import type { Meta } from '../domain/presence.js';
import type { Binding } from '../changes/filters.js';
import type { Message, Vsn } from './frames.js';

let nextId = 1;

export interface ChannelOptions {
  topic: string;
  subTopic: string;
  joinRef: string | null;
  private: boolean;
  self: boolean;
  ack: boolean;
  presenceEnabled: boolean;
  presenceKey: string;
  principal: Principal;
}

export interface ChannelOwner {
  readonly vsn: Vsn;
  readonly ref: string;
  sendFrame: (frame: string | Buffer) => void;
  send: (m: Message) => void;
  /** forgets the channel server-side (the client was told with phx_error and will rejoin) */
  dropChannel: (ch: Channel) => void;
  /** hold / release the socket's writes around a batch of frames (optional: a plain sender need not batch) */
  cork?: () => void;
  uncork?: () => void;
  /** a message reached this subscriber (metered) */
  delivered: () => void;
}

export class Channel implements Listener {
  readonly id = nextId++;
  readonly vsn: Vsn;
  /** the presence meta this channel tracks now, if any */
  tracked: Meta | null = null;
  /** private channels: the write check passed once for the current principal */
  mayWrite = false;
  bindings: Binding[] = [];
  /** the presence track / untrack in progress (they run one after another) */
  presenceOps: Promise<void> = Promise.resolve();
  expiry?: NodeJS.Timeout;
  closed = false;

  constructor(readonly owner: ChannelOwner, public opts: ChannelOptions) {
    this.vsn = owner.vsn;
  }

  get topic(): string {
    return this.opts.topic;
  }

  /** Hub scope: the project, public or private, and the topic. */
  get scope(): string {
    return `${this.owner.ref}:${this.opts.private ? 'p' : 'u'}:${this.opts.subTopic}`;
  }

  deliver(m: Outbound): void {
    if (this.closed) return;
    if (m.kind === 'presence_diff' && !this.opts.presenceEnabled) return;
    const frame = frameFor(m, this.vsn);
    if (frame === null) return;
    this.owner.sendFrame(frame);
    this.owner.delivered();
  }

  /** A server push on this channel (system messages, presence_state, postgres changes). */
  push(event: string, payload: unknown): void {
    if (!this.closed) this.owner.send({ joinRef: this.opts.joinRef, ref: null, topic: this.topic, event, payload });
  }

  /** a database change for this subscriber */
  pushFrame(frame: string): void {
    if (this.closed) return;
    this.owner.sendFrame(frame);
    this.owner.delivered();
  }
}
