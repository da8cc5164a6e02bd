// MongoDB wire framing: the 16-byte header, OP_MSG (sections kind 0 and 1, checksum skipped), OP_QUERY for the
// legacy handshake, and the replies (OP_MSG with one kind-0 section; OP_REPLY to an OP_QUERY).
import { BSON } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const MAX_MESSAGE_BYTES = 48_000_000;

const DESERIALIZE = { promoteLongs: false, promoteValues: true, validation: { utf8: false } } as const;

export interface Header { length: number; requestId: number; responseTo: number; opCode: number }
export interface Request { header: Header; command: Record<string, unknown>; moreToCome: boolean; legacy: boolean }

export const readHeader = (buf: Buffer): Header => ({
  length: buf.readInt32LE(0), requestId: buf.readInt32LE(4), responseTo: buf.readInt32LE(8), opCode: buf.readInt32LE(12),
});

export class FrameError extends Error {}

/** One whole message (header included) → the command it carries. */
export function parseMessage(msg: Buffer): Request {
  const header = readHeader(msg);
  if (header.opCode === OP_MSG) return parseOpMsg(header, msg);
  if (header.opCode === OP_QUERY) return parseOpQuery(header, msg);
  throw new FrameError(`unsupported opCode ${header.opCode}`);
}

function parseOpMsg(header: Header, msg: Buffer): Request {
  if (msg.length < 21) throw new FrameError('OP_MSG without sections');
  const flags = msg.readUInt32LE(16);
  if (flags & 0xfffc & 0xffff) throw new FrameError('unknown required OP_MSG flag bits');
  const end = flags & 1 ? msg.length - 4 : msg.length;
  let pos = 20;
  let command: Record<string, unknown> | undefined;
  const sequences = new Map<string, unknown[]>();
  while (pos < end) {
    const kind = msg[pos++];
    if (kind === 0) {
      if (command) throw new FrameError('more than one kind-0 section');
      const size = lengthAt(msg, pos, end, 'BSON document');
      command = BSON.deserialize(msg.subarray(pos, pos + size), DESERIALIZE);
      pos += size;
    } else if (kind === 1) {
      const sectionEnd = pos + lengthAt(msg, pos, end, 'document sequence');
      const nul = msg.indexOf(0, pos + 4);
      if (nul < 0 || nul >= sectionEnd) throw new FrameError('document sequence identifier not terminated within its section');
      const id = msg.toString('utf8', pos + 4, nul);
      if (sequences.has(id)) throw new FrameError(`duplicate document sequence ${id}`);
      const docs: unknown[] = [];
      for (let p = nul + 1; p < sectionEnd;) {
        const dsize = lengthAt(msg, p, sectionEnd, 'BSON document');
        docs.push(BSON.deserialize(msg.subarray(p, p + dsize), DESERIALIZE));
        p += dsize;
      }
      sequences.set(id, docs);
      pos = sectionEnd;
    } else throw new FrameError(`unknown OP_MSG section kind ${kind}`);
  }
  if (!command) throw new FrameError('OP_MSG without a kind-0 section');
  // defined, not assigned: an identifier such as __proto__ is a field like any other
  for (const [id, docs] of sequences) Object.defineProperty(command, id, { value: docs, enumerable: true, writable: true, configurable: true });
  return { header, command, moreToCome: (flags & 2) !== 0, legacy: false };
}

/**
 * The length at `pos` of a BSON document or a document sequence (both count their own 4 bytes), which must lie
 * within [pos, limit). Every length is the client's claim: a negative or too small one would move the parser
 * backwards or nowhere (a loop that never ends), one past the limit would read the next section or the checksum.
 */
function lengthAt(msg: Buffer, pos: number, limit: number, what: string): number {
  const size = pos + 4 <= limit ? msg.readInt32LE(pos) : 0;
  if (size < 5 || pos + size > limit) throw new FrameError(`invalid ${what} length ${size}`);
  return size;
}

function parseOpQuery(header: Header, msg: Buffer): Request {
  let pos = 20; // flags
  const nul = msg.indexOf(0, pos);
  if (nul < 0) throw new FrameError('OP_QUERY collection name not terminated');
  const collection = msg.toString('utf8', pos, nul);
  pos = nul + 1 + 8; // numberToSkip, numberToReturn
  const size = lengthAt(msg, pos, msg.length, 'BSON document');
  const command = BSON.deserialize(msg.subarray(pos, pos + size), DESERIALIZE);
  if (!collection.endsWith('.$cmd')) throw new FrameError('OP_QUERY is only accepted for commands');
  command.$db = collection.slice(0, -5);
  return { header, command, moreToCome: false, legacy: true };
}

let nextId = 1;

export function opMsgReply(responseTo: number, doc: Record<string, unknown>): Buffer {
  const body = BSON.serialize(doc);
  const out = Buffer.alloc(16 + 4 + 1 + body.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(nextId++ & 0x7fffffff, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_MSG, 12);
  out.writeUInt32LE(0, 16);
  out[20] = 0;
  out.set(body, 21);
  return out;
}

export function opReply(responseTo: number, doc: Record<string, unknown>): Buffer {
  const body = BSON.serialize(doc);
  const out = Buffer.alloc(16 + 20 + body.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(nextId++ & 0x7fffffff, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_REPLY, 12);
  out.writeInt32LE(0, 16); // responseFlags
  out.writeBigInt64LE(0n, 20); // cursorID
  out.writeInt32LE(0, 28); // startingFrom
  out.writeInt32LE(1, 32); // numberReturned
  out.set(body, 36);
  return out;
}
