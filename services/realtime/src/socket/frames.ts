// Phoenix frames as realtime-js speaks them: vsn 1.0.0 JSON objects, vsn 2.0.0 JSON arrays plus binary
// frames (kind 3 user broadcast push in, kind 4 user broadcast out). Decoding never throws: a bad frame
// becomes null and the socket stays up.

export type Vsn = '1.0.0' | '2.0.0';

export interface Message {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: unknown;
}

/** A client broadcast arriving as a kind-3 binary frame: the user payload stays bytes until relayed. */
export interface BinaryBroadcast extends Message {
  event: 'broadcast';
  userEvent: string;
  /** 1 = the bytes are UTF-8 JSON, 0 = opaque binary */
  encoding: 0 | 1;
  bytes: Buffer;
  meta: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

export function decodeText(text: string, vsn: Vsn): Message | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (vsn === '2.0.0' && Array.isArray(raw)) {
    if (raw.length !== 5 || typeof raw[2] !== 'string' || typeof raw[3] !== 'string') return null;
    return { joinRef: str(raw[0]), ref: str(raw[1]), topic: raw[2], event: raw[3], payload: raw[4] };
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    if (typeof o.topic !== 'string' || typeof o.event !== 'string') return null;
    return { joinRef: str(o.join_ref), ref: str(o.ref), topic: o.topic, event: o.event, payload: o.payload };
  }
  return null;
}

/** Kind 3 (user broadcast push) and kind 0 (push with a binary payload); anything else is null. */
export function decodeBinary(buf: Buffer): Message | BinaryBroadcast | null {
  try {
    const kind = buf[0];
    if (kind === 3) {
      const [jl, rl, tl, el, ml, enc] = [buf[1], buf[2], buf[3], buf[4], buf[5], buf[6]];
      let o = 7;
      const take = (n: number) => buf.toString('utf8', o, (o += n));
      const joinRef = take(jl), ref = take(rl), topic = take(tl), userEvent = take(el), meta = take(ml);
      if (o > buf.length || (enc !== 0 && enc !== 1)) return null;
      return { joinRef: joinRef || null, ref: ref || null, topic, event: 'broadcast', payload: null, userEvent, encoding: enc, bytes: buf.subarray(o), meta };
    }
    if (kind === 0) {
      const [jl, rl, tl, el] = [buf[1], buf[2], buf[3], buf[4]];
      let o = 5;
      const take = (n: number) => buf.toString('utf8', o, (o += n));
      const joinRef = take(jl), ref = take(rl), topic = take(tl), event = take(el);
      if (o > buf.length) return null;
      return { joinRef: joinRef || null, ref: ref || null, topic, event, payload: buf.subarray(o) };
    }
  } catch {
    return null;
  }
  return null;
}

export const isBinaryBroadcast = (m: Message): m is BinaryBroadcast => (m as BinaryBroadcast).bytes !== undefined;

export function encodeText(m: Message, vsn: Vsn): string {
  if (vsn === '2.0.0') return JSON.stringify([m.joinRef, m.ref, m.topic, m.event, m.payload]);
  return JSON.stringify({ join_ref: m.joinRef, ref: m.ref, topic: m.topic, event: m.event, payload: m.payload });
}

/** Kind 4: `[4][topic_len][event_len][meta_len][encoding] topic event meta payload`. */
export function encodeUserBroadcast(topic: string, userEvent: string, encoding: 0 | 1, bytes: Buffer, meta = ''): Buffer {
  const t = Buffer.from(topic), e = Buffer.from(userEvent), m = Buffer.from(meta);
  const head = Buffer.from([4, t.length, e.length, m.length, encoding]);
  return Buffer.concat([head, t, e, m, bytes]);
}

export const reply = (topic: string, joinRef: string | null, ref: string | null, status: 'ok' | 'error', response: unknown): Message =>
  ({ joinRef, ref, topic, event: 'phx_reply', payload: { status, response } });
