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
  const flags = msg.readUInt32LE(16);
  if (flags & 0xfffc & 0xffff) throw new FrameError('unknown required OP_MSG flag bits');
  const end = flags & 1 ? msg.length - 4 : msg.length;
  let pos = 20;
  let command: Record<string, unknown> | undefined;
  const sequences: [string, unknown[]][] = [];
  while (pos < end) {
    const kind = msg[pos++];
    if (kind === 0) {
      const size = msg.readInt32LE(pos);
      if (command) throw new FrameError('more than one kind-0 section');
      command = BSON.deserialize(msg.subarray(pos, pos + size), DESERIALIZE);
      pos += size;
    } else if (kind === 1) {
      const size = msg.readInt32LE(pos);
      const sectionEnd = pos + size;
      const nul = msg.indexOf(0, pos + 4);
      const id = msg.toString('utf8', pos + 4, nul);
      let p = nul + 1;
      const docs: unknown[] = [];
      while (p < sectionEnd) {
        const dsize = msg.readInt32LE(p);
        docs.push(BSON.deserialize(msg.subarray(p, p + dsize), DESERIALIZE));
        p += dsize;
      }
      sequences.push([id, docs]);
      pos = sectionEnd;
    } else throw new FrameError(`unknown OP_MSG section kind ${kind}`);
  }
  if (!command) throw new FrameError('OP_MSG without a kind-0 section');
  for (const [id, docs] of sequences) command[id] = docs;
  return { header, command, moreToCome: (flags & 2) !== 0, legacy: false };
}

function parseOpQuery(header: Header, msg: Buffer): Request {
  let pos = 20; // flags
  const nul = msg.indexOf(0, pos);
  const collection = msg.toString('utf8', pos, nul);
  pos = nul + 1 + 8; // numberToSkip, numberToReturn
  const size = msg.readInt32LE(pos);
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
