// Request ids: the one the gateway sent on when it is a sane one, else a new random (version 4) UUID. Every
// request of every service takes one, and crypto.randomUUID() builds its text by adding 36 strings together: a
// string of many pieces that node:http then flattens to check it as a header value. Here the text is written into
// one buffer from a pool of random bytes and read out once, at about half the cost.
import { randomFillSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const HEX = Buffer.from('0123456789abcdef');
/** random bytes for 256 ids, refilled when used up (randomUUID keeps such a cache too) */
const POOL = Buffer.allocUnsafe(16 * 256);
let used = POOL.length;
const TEXT = Buffer.from('00000000-0000-4000-8000-000000000000');
/** where each byte's two hex digits go in TEXT */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** a new random UUID (RFC 9562 version 4) */
export function newRequestId(): string {
  if (used === POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  for (let i = 0; i < 16; i++) {
    let b = POOL[used + i]!;
    if (i === 6) b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // variant 10
    TEXT[AT[i]!] = HEX[b >> 4]!;
    TEXT[AT[i]! + 1] = HEX[b & 15]!;
  }
  used += 16;
  return TEXT.toString('latin1');
}

/** the gateway's request id when it is a sane one, else a new one */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : newRequestId();
}
