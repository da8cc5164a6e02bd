// The MongoDB wire-protocol listener: framing per socket, the handshake (hello / isMaster, also as the legacy
// OP_QUERY the driver opens with), SCRAM-SHA-256 against per-project credentials, then commands in one project.
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Binary } from 'bson';
import { BasaltError } from '@basalt/errors';
import type { Logger } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { RunDocuments } from '../app.js';
import type { ControlDb } from '../db/control.js';
import { serviceGuard } from '../domain/guard.js';
import type { RuleBook } from '../domain/rules.js';
import { mongoCodeOf } from '../errors.js';
import { COMMANDS, USER_COMMANDS, type Session } from './commands.js';
import { Cursors } from './cursors.js';
import { FrameError, MAX_MESSAGE_BYTES, opMsgReply, opReply, parseMessage, type Request } from './frames.js';
import { parseClientFirst, serverFirst, verifyClientFinal, type Conversation } from './scram.js';

export interface WireDeps { db: ControlDb; registry: ProjectRegistry; run: RunDocuments; rules: RuleBook; log: Logger }

const MAX_BSON = 16 * 1024 * 1024;
let connections = 0;

const fail = (code: number, codeName: string, errmsg: string) => ({ ok: 0, errmsg, code, codeName });

/** TLS on the wire port: `allow` takes TLS and plain connections on the one port, `require` refuses plain ones */
export interface WireTls {
  cert: Buffer;
  key: Buffer;
  mode: 'allow' | 'require';
}

/** a socket whose first bytes were already read, as a stream that yields them again, for a TLS layer on top */
function replayed(socket: net.Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => void socket.end(cb),
    destroy: (err, cb) => (socket.destroy(), cb(err)),
  });
  stream.push(first);
  socket.on('data', (chunk) => void (stream.push(chunk) || socket.pause()));
  socket.once('end', () => stream.push(null));
  socket.once('close', () => stream.destroy());
  return stream;
}

export function startWireServer(deps: WireDeps, tlsOptions?: WireTls) {
  const cursors = new Cursors();
  const serve = (socket: net.Socket) => serveSocket(socket, deps, cursors, ++connections);
  const context = tlsOptions && tls.createSecureContext({ cert: tlsOptions.cert, key: tlsOptions.key });
  const server = net.createServer((socket) => {
    if (!context) return serve(socket);
    socket.on('error', () => socket.destroy());
    // a TLS ClientHello opens with a handshake record (0x16); a MongoDB message with its length, far smaller
    socket.once('data', (first) => {
      socket.pause();
      if (first[0] === 0x16) {
        const secure = new tls.TLSSocket(replayed(socket, first), { isServer: true, secureContext: context });
        secure.on('error', () => secure.destroy());
        serve(secure);
      } else if (tlsOptions.mode === 'require') {
        socket.destroy();
      } else {
        socket.unshift(first);
        serve(socket);
      }
      socket.resume();
    });
  });
  return {
    server,
    /** on every address, IPv6 and IPv4 (a URI naming localhost may resolve to either) */
    listen: (port: number) => new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => resolve((server.address() as net.AddressInfo).port));
    }),
    close: () => new Promise<void>((resolve) => {
      cursors.close();
      server.close(() => resolve());
    }),
  };
}

/** requests read and not yet answered on one socket before it is read no further */
const MAX_PIPELINED = 16;

function serveSocket(socket: net.Socket, deps: WireDeps, cursors: Cursors, connectionId: number): void {
  // chunks are kept apart until a whole message is there: concatenating on every chunk is quadratic for 16 MB
  let chunks: Buffer[] = [];
  let buffered = 0;
  let session: Session | null = null;
  let conversation: Conversation | null = null;
  let queue = Promise.resolve();
  let pending = 0;
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    chunks.push(chunk);
    buffered += chunk.length;
    while (buffered >= 4) {
      const head = chunks[0].length >= 4 ? chunks[0] : (chunks = [Buffer.concat(chunks)])[0];
      const len = head.readInt32LE(0);
      if (len < 16 || len > MAX_MESSAGE_BYTES) return void socket.destroy();
      if (buffered < len) return;
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
      const msg = all.subarray(0, len);
      const rest = all.subarray(len);
      chunks = rest.length ? [rest] : [];
      buffered = rest.length;
      // one request at a time per socket, answered in order (the driver does not pipeline). A reply waits for the
      // client to take the one before (handle), and past MAX_PIPELINED requests waiting nothing more is read: a
      // client that pipelines requests and never reads its replies holds back its own sends instead of growing
      // this process's buffers without bound. A driver, one request at a time, never pauses the socket
      if (++pending === MAX_PIPELINED) socket.pause();
      queue = queue.then(() => handle(msg)).catch((err: Error) => {
        deps.log.warn({ err: err.message }, 'wire message failed');
        socket.destroy();
      }).finally(() => {
        if (--pending === MAX_PIPELINED - 1 && !socket.destroyed) socket.resume();
      });
    }
  });

  async function handle(msg: Buffer): Promise<void> {
    let req: Request;
    try {
      req = parseMessage(msg);
    } catch (e) {
      if (e instanceof FrameError) deps.log.debug({ err: e.message }, 'wire frame refused');
      socket.destroy();
      return;
    }
    const reply = await answer(req);
    if (req.moreToCome || socket.destroyed) return;
    if (!socket.write(req.legacy ? opReply(req.header.requestId, reply) : opMsgReply(req.header.requestId, reply))) await drained(socket);
  }

  async function answer(req: Request): Promise<Record<string, unknown>> {
    const cmd = req.command;
    const name = Object.keys(cmd)[0] ?? '';
    const lower = name.toLowerCase();
    try {
      if (lower === 'hello' || lower === 'ismaster') return hello(cmd);
      if (req.legacy && lower !== 'saslstart' && lower !== 'saslcontinue') return { $err: 'OP_QUERY is only supported for the handshake', code: 352, ok: 0 };
      if (lower === 'ping') return { ok: 1 };
      if (lower === 'buildinfo') return { version: '7.0.0', versionArray: [7, 0, 0, 0], gitVersion: 'basalt', bits: 64, maxBsonObjectSize: MAX_BSON, ok: 1 };
      if (lower === 'saslstart') return await saslStart(cmd);
      if (lower === 'saslcontinue') return saslContinue(cmd);
      if (lower === 'logout') return (session = null), { ok: 1 };
      if (!session) {
        if (lower === 'endsessions') return { ok: 1 };
        return fail(13, 'Unauthorized', `command ${name} requires authentication`);
      }
      const handler = COMMANDS[name];
      if (!handler) return fail(59, 'CommandNotFound', `no such command: '${name}'`);
      const s = session;
      const project = await deps.registry.get(s.ref);
      if (!project) return fail(13, 'Unauthorized', 'the project of this credential no longer exists');
      const bypass = s.role === 'service_role';
      if (!bypass && !USER_COMMANDS.has(name)) return fail(13, 'Unauthorized', `not authorized to run ${name}: this login is bound to the collection rules`);
      const guard = bypass ? serviceGuard
        : deps.rules.guard(s.ref, { uid: typeof s.claims.sub === 'string' ? s.claims.sub : undefined, role: s.role, jwt: s.claims });
      return await handler(cmd, s, (fn, mode) => deps.run(project, guard, s.claims, fn, mode), cursors);
    } catch (e) {
      if (e instanceof BasaltError && e.status < 500) {
        const { code, codeName } = mongoCodeOf(e);
        return fail(code, codeName, e.message);
      }
      deps.log.error({ err: (e as Error).message, command: name }, 'wire command failed');
      return fail(1, 'InternalError', 'internal error');
    }
  }

  function hello(cmd: Record<string, unknown>) {
    return {
      helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: MAX_BSON, maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      maxWriteBatchSize: 100_000, localTime: new Date(), logicalSessionTimeoutMinutes: 30, connectionId, minWireVersion: 0, maxWireVersion: 21,
      readOnly: false, ...(cmd.saslSupportedMechs !== undefined ? { saslSupportedMechs: ['SCRAM-SHA-256'] } : {}), ok: 1,
    };
  }

  async function saslStart(cmd: Record<string, unknown>) {
    if (cmd.mechanism !== 'SCRAM-SHA-256') return fail(334, 'MechanismUnavailable', `Unsupported mechanism ${String(cmd.mechanism)}`);
    const first = parseClientFirst(payloadOf(cmd.payload));
    if (!first) return fail(18, 'AuthenticationFailed', 'Authentication failed.');
    const cred = await deps.db.credential(first.username);
    conversation = serverFirst(first.bare, first.clientNonce, cred, first.username);
    return { conversationId: 1, done: false, payload: new Binary(Buffer.from(conversation.serverFirst)), ok: 1 };
  }

  function saslContinue(cmd: Record<string, unknown>) {
    const c = conversation;
    conversation = null;
    const final = c ? verifyClientFinal(c, payloadOf(cmd.payload)) : null;
    if (!c || !final || !c.cred) return fail(18, 'AuthenticationFailed', 'Authentication failed.');
    const claims = c.cred.role === 'service_role' ? { role: 'service_role', ref: c.cred.ref } : { ...(c.cred.claims ?? {}), role: c.cred.role, ref: c.cred.ref };
    session = { username: c.cred.username, ref: c.cred.ref, role: c.cred.role, claims };
    return { conversationId: 1, done: true, payload: new Binary(Buffer.from(final)), ok: 1 };
  }
}

/** once what was written has gone out to the client, or the socket is gone */
const drained = (socket: Duplex) => new Promise<void>((resolve) => {
  const done = () => {
    socket.off('drain', done).off('close', done);
    resolve();
  };
  socket.on('drain', done).on('close', done);
});

function payloadOf(p: unknown): Buffer {
  if (p instanceof Binary) return Buffer.from(p.buffer);
  if (typeof p === 'string') return Buffer.from(p, 'utf8');
  return Buffer.alloc(0);
}
