// Fan-out: which local channels listen to a topic, and the Redis pub/sub link that carries every publish to
// the other replicas. A publish is delivered here at once and reaches other replicas through Redis (tagged
// with this replica's id so it is not delivered twice). Frames are encoded once per message and vsn.
import type { Redis } from 'ioredis';
import { encodeText, encodeUserBroadcast, type Vsn } from '../socket/frames.js';

/** A message for every subscriber of a topic: a user broadcast or a presence diff. */
export interface Outbound {
  topic: string;
  kind: 'broadcast' | 'presence_diff';
  /** broadcast: the user's event name */
  userEvent: string;
  /** 1 = bytes are UTF-8 JSON; 0 = opaque binary */
  encoding: 0 | 1;
  bytes: Buffer;
  meta: string;
  /** the channel that sent it and asked not to hear it back (broadcast self:false) */
  exclude: number | null;
  /** null: the message cannot be framed for that vsn */
  frames?: Partial<Record<Vsn, string | Buffer | null>>;
}

export interface Listener {
  id: number;
  vsn: Vsn;
  deliver: (m: Outbound) => void;
}

/**
 * The frame a vsn's client gets for a message (cached on the message), or null when it has none: JSON nested too
 * deep for JSON.stringify (a client's binary broadcast is only parsed on the way in) has no vsn 1 frame. Never
 * throws: it runs inside the Redis subscriber's event handler, where a throw would end the process.
 */
export function frameFor(m: Outbound, vsn: Vsn): string | Buffer | null {
  const hit = m.frames?.[vsn];
  if (hit !== undefined) return hit;
  let f: string | Buffer | null;
  try {
    f = encodeFrame(m, vsn);
  } catch {
    f = null;
  }
  (m.frames ??= {})[vsn] = f;
  return f;
}

function encodeFrame(m: Outbound, vsn: Vsn): string | Buffer {
  if (m.kind === 'presence_diff') {
    return encodeText({ joinRef: null, ref: null, topic: m.topic, event: 'presence_diff', payload: JSON.parse(m.bytes.toString()) }, vsn);
  }
  if (vsn === '2.0.0') return encodeUserBroadcast(m.topic, m.userEvent, m.encoding, m.bytes, m.meta);
  // vsn 1 has no binary frames: opaque bytes travel base64-encoded
  const payload = m.encoding === 1 ? JSON.parse(m.bytes.toString()) : m.bytes.toString('base64');
  const body: Record<string, unknown> = { type: 'broadcast', event: m.userEvent, payload };
  if (m.meta) body.meta = JSON.parse(m.meta);
  return encodeText({ joinRef: null, ref: null, topic: m.topic, event: 'broadcast', payload: body }, vsn);
}

export class Hub {
  readonly #local = new Map<string, Set<Listener>>();
  readonly #pending = new Map<string, Promise<unknown>>();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly replica: string,
  ) {
    sub.on('messageBuffer', (channel: Buffer, data: Buffer) => this.#fromRedis(channel.toString(), data));
  }

  /** `scope` is `<ref>:<u|p>:<topic>`: a project's public and private channels of one name never mix. */
  #channel = (scope: string) => `${this.prefix}rt:b:${scope}`;

  /** Resolves once Redis delivers this topic's messages from other replicas here. */
  async join(scope: string, l: Listener): Promise<void> {
    let set = this.#local.get(scope);
    if (!set) {
      set = new Set();
      this.#local.set(scope, set);
      this.#pending.set(scope, this.sub.subscribe(this.#channel(scope)).finally(() => this.#pending.delete(scope)));
    }
    set.add(l);
    await this.#pending.get(scope);
  }

  leave(scope: string, l: Listener): void {
    const set = this.#local.get(scope);
    if (!set?.delete(l) || set.size > 0) return;
    this.#local.delete(scope);
    void this.sub.unsubscribe(this.#channel(scope)).catch(() => undefined);
  }

  listeners(scope: string): number {
    return this.#local.get(scope)?.size ?? 0;
  }

  /** Delivers here and on every other replica. */
  publish(scope: string, m: Outbound): void {
    this.deliverLocal(scope, m);
    const head = JSON.stringify({ o: this.replica, t: m.topic, k: m.kind, e: m.userEvent, n: m.encoding, m: m.meta, x: m.exclude });
    void this.pub.publish(this.#channel(scope), Buffer.concat([Buffer.from(`${head}\n`), m.bytes])).catch(() => undefined);
  }

  /** Delivers to this replica's listeners only (each replica hears a database NOTIFY itself). */
  deliverLocal(scope: string, m: Outbound): void {
    const set = this.#local.get(scope);
    if (!set) return;
    for (const l of set) if (l.id !== m.exclude) l.deliver(m);
  }

  #fromRedis(channel: string, data: Buffer): void {
    const nl = data.indexOf(10);
    if (nl < 0) return;
    let h: { o: string; t: string; k: Outbound['kind']; e: string; n: 0 | 1; m: string; x: number | null };
    try {
      h = JSON.parse(data.toString('utf8', 0, nl));
    } catch {
      return;
    }
    if (h.o === this.replica) return;
    const scope = channel.slice(this.#channel('').length);
    // channel ids are per replica: an exclusion from another replica names none of ours
    this.deliverLocal(scope, { topic: h.t, kind: h.k, userEvent: h.e, encoding: h.n, bytes: data.subarray(nl + 1), meta: h.m, exclude: null });
  }
}
