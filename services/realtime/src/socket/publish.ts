// What a client publishes on a joined channel: broadcasts (JSON or binary, v1 object or v2 kind-3 frame)
// and presence track/untrack, each checked against the project's settings, rate limits and, on private
// channels, the RLS write check on realtime.messages.
import { reasons } from '../errors.js';
import type { Limits } from '../domain/limits.js';
import type { Channel } from './channel.js';
import type { Connection } from './connection.js';
import { isBinaryBroadcast, type Message } from './frames.js';

const obj = (v: unknown): Record<string, unknown> | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

async function mayWrite(conn: Connection, ch: Channel, extension: 'broadcast' | 'presence'): Promise<boolean> {
  if (!ch.opts.private || ch.mayWrite || ch.opts.principal.role === 'service_role') return true;
  ch.mayWrite = await conn.deps.channelAuth.canWrite(conn.project, ch.opts.principal, ch.opts.subTopic, extension);
  return ch.mayWrite;
}

export async function clientBroadcast(conn: Connection, ch: Channel, m: Message): Promise<void> {
  const limits = conn.limits();
  if (!limits.clientBroadcast && ch.opts.principal.role !== 'service_role') return conn.replyError(m, reasons.clientBroadcastOff);
  if (!conn.events.take(limits.eventsPerSecond)) return conn.replyError(m, reasons.tooManyMessages);
  // the plan's realtime_messages_per_second is the project's, over all its sockets and replicas
  const quota = conn.project.quotas.realtime_messages_per_second;
  if (quota !== null && !(await conn.deps.joins.take(`rt:msgs:${conn.ref}`, quota))) return conn.replyError(m, reasons.messageQuota(quota));
  let userEvent: string, encoding: 0 | 1, bytes: Buffer;
  if (isBinaryBroadcast(m)) {
    ({ userEvent, encoding, bytes } = m);
    if (encoding === 1) {
      try {
        JSON.parse(bytes.toString('utf8'));
      } catch {
        return conn.replyError(m, 'Invalid JSON payload');
      }
    }
  } else {
    const p = obj(m.payload);
    if (!p || typeof p.event !== 'string') return conn.replyError(m, 'A broadcast needs {type: "broadcast", event, payload}');
    userEvent = p.event;
    encoding = 1;
    bytes = Buffer.from(JSON.stringify(p.payload ?? {}));
  }
  if (Buffer.byteLength(userEvent) > 255) return conn.replyError(m, 'Event names are at most 255 bytes');
  if (bytes.length > limits.maxPayloadBytes) return conn.replyError(m, reasons.payloadTooLarge);
  if (!(await mayWrite(conn, ch, 'broadcast'))) return conn.replyError(m, reasons.cannotWrite(ch.opts.subTopic));
  conn.deps.hub.publish(ch.scope, { topic: ch.topic, kind: 'broadcast', userEvent, encoding, bytes, meta: '', exclude: ch.opts.self ? null : ch.id });
  if (ch.opts.ack) conn.replyOk(m);
}

export async function presenceEvent(conn: Connection, ch: Channel, m: Message): Promise<void> {
  const limits = conn.limits();
  if (!conn.presenceBudget.take(limits.presencePerSecond)) {
    conn.replyError(m, reasons.tooManyPresence);
    return conn.shutdownChannel(ch, 'Too many presence messages per second');
  }
  // One at a time per channel, in order, as a Phoenix channel process takes them: a track still being stored when
  // the next track, an untrack or the leave runs would be left out of their leaves, a meta no one ever removes.
  const run = ch.presenceOps.then(() => applyPresence(conn, ch, m, limits));
  ch.presenceOps = run.catch(() => undefined);
  return run;
}

async function applyPresence(conn: Connection, ch: Channel, m: Message, limits: Limits): Promise<void> {
  if (ch.closed) return;
  const p = obj(m.payload) ?? {};
  if (p.event === 'untrack') {
    if (ch.tracked) {
      const meta = ch.tracked;
      ch.tracked = null;
      await conn.deps.presence.untrack(ch.scope, ch.topic, ch.id, ch.opts.presenceKey, meta);
    }
    return conn.replyOk(m);
  }
  if (p.event !== 'track') return conn.replyError(m, reasons.unknownEvent(`presence ${String(p.event)}`));
  const state = obj(p.payload);
  if (!state) return conn.replyError(m, reasons.presenceNotMap);
  if (Buffer.byteLength(JSON.stringify(state)) > limits.maxPayloadBytes) return conn.shutdownChannel(ch, 'Track message size exceeded');
  if (!(await mayWrite(conn, ch, 'presence'))) return conn.replyError(m, reasons.cannotWrite(ch.opts.subTopic));
  if (ch.closed) return;
  const meta = await conn.deps.presence.track(ch.scope, ch.topic, ch.id, ch.opts.presenceKey, state, ch.tracked);
  // the channel left (or its socket closed) while the meta was stored: its leave found nothing to untrack
  if (ch.closed) return conn.deps.presence.untrack(ch.scope, ch.topic, ch.id, ch.opts.presenceKey, meta);
  ch.tracked = meta;
  conn.replyOk(m);
}
