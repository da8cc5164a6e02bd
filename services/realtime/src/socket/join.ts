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

export async function joinChannel(conn: Connection, m: Message): Promise<void> {
  if (!m.topic.startsWith('realtime:')) return conn.replyError(m, reasons.unmatchedTopic);
  const subTopic = m.topic.slice('realtime:'.length);
  if (subTopic === '') return conn.replyError(m, reasons.noTopic);
  const limits = conn.limits();
  const existing = conn.channels.get(m.topic);
  if (existing) await leaveChannel(conn, existing); // a rejoin replaces the old channel, as Phoenix does
  if (conn.channels.size >= conn.deps.config.REALTIME_MAX_CHANNELS_PER_SOCKET) return conn.replyError(m, reasons.tooManyChannels);
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
  conn.channels.set(m.topic, ch);
  try {
    await conn.deps.hub.join(ch.scope, ch);
    await conn.deps.feeds.attach(conn.project, ch);
  } catch (e) {
    await leaveChannel(conn, ch);
    throw e;
  }
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
  ch.expiry = setTimeout(() => void conn.shutdownChannel(ch, reasons.tokenExpired(0).replace('InvalidJWTToken: ', '')), Math.max(0, ms));
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
