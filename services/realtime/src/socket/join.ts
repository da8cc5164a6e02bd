// phx_join (config, access_token, private channels, user topics, postgres_changes), leaving, and
// access_token refresh with the expiry timer that shuts a channel down when its token runs out.
import { randomUUID } from 'node:crypto';
import type { Principal } from '@basalt/tenancy';
import { reasons } from '../errors.js';
import { checkToken, mayJoinUserTopic, tokenProblem } from '../domain/auth.js';
import { FilterError, parseBindings, replyBindings } from '../changes/filters.js';
import { Channel } from './channel.js';
import type { Connection } from './connection.js';
import type { Message } from './frames.js';

const flag = (v: unknown) => v === true || v === 'true';
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The channel's principal: the join's access_token when it is a JWT, else the socket's apikey. */
function channelPrincipal(conn: Connection, token: unknown): Principal | string {
  if (typeof token !== 'string' || token === '' || token.startsWith('sb_')) return conn.principal;
  const c = checkToken(conn.project, token);
  if (c.ok) return c.principal;
  if (c.why === 'expired') return reasons.tokenExpired(c.agoSeconds ?? 0);
  if (c.why === 'fields') return reasons.roleAndExp;
  return reasons.invalidToken(tokenProblem(c));
}

/**
 * Sub-topics are at most this long, as in REST broadcast: a topic is held by its channel, its Redis subscription and
 * every frame sent on it, and a vsn 2 binary frame gives its length one byte.
 */
const MAX_SUBTOPIC_BYTES = 200;
/** Join frames are at most this large: what one carries (presence key, bindings) is held as long as its channel. */
const MAX_JOIN_BYTES = 64 * 1024;

export async function joinChannel(conn: Connection, m: Message, frameBytes: number): Promise<void> {
  if (!m.topic.startsWith('realtime:')) return conn.replyError(m, reasons.unmatchedTopic);
  const subTopic = m.topic.slice('realtime:'.length);
  if (subTopic === '') return conn.replyError(m, reasons.noTopic);
  if (Buffer.byteLength(subTopic) > MAX_SUBTOPIC_BYTES) return conn.replyError(m, reasons.topicTooLong(MAX_SUBTOPIC_BYTES));
  if (frameBytes > MAX_JOIN_BYTES) return conn.replyError(m, reasons.joinTooLarge(MAX_JOIN_BYTES));
  const existing = conn.channels.get(m.topic);
  if (existing) await leaveChannel(conn, existing); // a rejoin replaces the old channel, as Phoenix does
  // Joins still in flight hold their slot: a burst of joins, all checked before any of them was set, would all pass.
  if (conn.channels.size + conn.joining.size >= conn.deps.config.REALTIME_MAX_CHANNELS_PER_SOCKET) return conn.replyError(m, reasons.tooManyChannels);
  conn.joining.add(m);
  try {
    await join(conn, m, subTopic);
  } finally {
    conn.joining.delete(m);
  }
}

async function join(conn: Connection, m: Message, subTopic: string): Promise<void> {
  const limits = conn.limits();
  if (!(await conn.deps.joins.take(`rt:joins:${conn.ref}`, limits.joinsPerSecond))) return conn.replyError(m, reasons.tooManyJoins);

  const payload = obj(m.payload);
  const config = obj(payload.config);
  const principal = channelPrincipal(conn, payload.access_token);
  if (typeof principal === 'string') return conn.replyError(m, principal);
  if (!mayJoinUserTopic(subTopic, principal)) return conn.replyError(m, reasons.cannotRead(subTopic));
  let bindings;
  try {
    bindings = parseBindings(config.postgres_changes);
  } catch (e) {
    if (e instanceof FilterError) return conn.replyError(m, reasons.badPostgresChanges(e.message));
    throw e;
  }
  const isPrivate = flag(config.private);
  if (isPrivate && !(await conn.deps.channelAuth.canRead(conn.project, principal, subTopic))) return conn.replyError(m, reasons.cannotRead(subTopic));
  if (conn.closed) return;

  const broadcast = obj(config.broadcast), presence = obj(config.presence);
  const ch = new Channel(conn, {
    topic: m.topic, subTopic, joinRef: m.joinRef ?? m.ref, private: isPrivate,
    self: flag(broadcast.self), ack: flag(broadcast.ack),
    presenceEnabled: presence.enabled === undefined ? true : flag(presence.enabled),
    presenceKey: typeof presence.key === 'string' && presence.key !== '' ? presence.key : randomUUID(),
    principal,
  });
  ch.bindings = bindings;
  // a join of the same topic that finished meanwhile is replaced, as a rejoin is (else it would join unseen, for good)
  const prior = conn.channels.get(m.topic);
  if (prior) conn.dropChannel(prior);
  conn.joining.delete(m); // the slot is the channel's now
  conn.channels.set(m.topic, ch);
  try {
    await conn.deps.hub.join(ch.scope, ch);
    await conn.deps.feeds.attach(conn.project, ch);
  } catch (e) {
    await leaveChannel(conn, ch);
    throw e;
  }
  // left while joining (a phx_leave, a later join of the topic, the socket closing): that leave undid the join
  if (ch.closed) return;
  conn.replyOk(m, bindings.length ? { postgres_changes: replyBindings(bindings) } : {});
  scheduleExpiry(conn, ch);
  if (ch.opts.presenceEnabled) ch.push('presence_state', await conn.deps.presence.state(ch.scope));
  if (bindings.length) {
    ch.push('system', { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: subTopic });
  }
  if (isPrivate) await replay(conn, ch, obj(broadcast.replay));
}

async function replay(conn: Connection, ch: Channel, opts: Record<string, unknown>): Promise<void> {
  if (typeof opts.since !== 'number') return;
  const limit = typeof opts.limit === 'number' ? Math.min(Math.max(1, opts.limit), 25) : 25;
  const rows = await conn.deps.channelAuth.replay(conn.project, ch.opts.principal, ch.opts.subTopic, new Date(opts.since), limit);
  for (const r of rows) {
    ch.push('broadcast', { type: 'broadcast', event: r.event, payload: r.payload, meta: { id: r.id, replayed: true } });
  }
}

export async function leaveChannel(conn: Connection, ch: Channel): Promise<void> {
  if (ch.closed) return;
  ch.closed = true;
  clearTimeout(ch.expiry);
  if (conn.channels.get(ch.topic) === ch) conn.channels.delete(ch.topic);
  conn.deps.hub.leave(ch.scope, ch);
  conn.deps.feeds.detach(conn.ref, ch);
  if (ch.tracked) {
    const meta = ch.tracked;
    ch.tracked = null;
    await conn.deps.presence.untrack(ch.scope, ch.topic, ch.id, ch.opts.presenceKey, meta);
  }
}

/** Shuts the channel down when its token expires without a refresh. */
function scheduleExpiry(conn: Connection, ch: Channel): void {
  clearTimeout(ch.expiry);
  const exp = ch.opts.principal.claims.exp;
  if (typeof exp !== 'number') return;
  const ms = Math.min(exp * 1000 - Date.now(), 2_147_000_000);
  // a timer's promise: a failure (Redis away while its presence is untracked) is logged, never left unhandled
  const expire = () => conn.shutdownChannel(ch, reasons.tokenExpired(0).replace('InvalidJWTToken: ', '')).catch((err: Error) => {
    conn.deps.log.warn({ ref: conn.ref, err: err.message }, 'expired channel not shut down cleanly');
  });
  ch.expiry = setTimeout(expire, Math.max(0, ms));
  ch.expiry.unref();
}

export async function refreshToken(conn: Connection, ch: Channel, m: Message): Promise<void> {
  const token = obj(m.payload).access_token;
  if (typeof token !== 'string' || token.startsWith('sb_')) return conn.replyOk(m);
  const c = checkToken(conn.project, token);
  if (!c.ok) return conn.shutdownChannel(ch, c.why === 'expired' ? `Token has expired ${c.agoSeconds ?? 0} seconds ago` : tokenProblem(c));
  const p = c.principal;
  if (!mayJoinUserTopic(ch.opts.subTopic, p)) return conn.shutdownChannel(ch, `You no longer have permission to read from this Channel topic: ${ch.opts.subTopic}`);
  if (ch.opts.private && !(await conn.deps.channelAuth.canRead(conn.project, p, ch.opts.subTopic))) {
    return conn.shutdownChannel(ch, `You no longer have permission to read from this Channel topic: ${ch.opts.subTopic}`);
  }
  ch.opts = { ...ch.opts, principal: p };
  ch.mayWrite = false;
  scheduleExpiry(conn, ch);
  conn.replyOk(m);
}
