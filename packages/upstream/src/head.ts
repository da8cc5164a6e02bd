const CRLF2 = Buffer.from('\r\n\r\n');
/** a response head larger than this is refused (node:http's own limit is 16 KB) */
export const MAX_HEAD = 64 * 1024;

export interface ResponseHead {
  status: number;
  /** header fields as sent: name, value, name, value, … */
  fields: string[];
  /** declared Content-Length, or -1 */
  length: number;
  chunked: boolean;
  /** the connection may carry another exchange (HTTP/1.1 without `connection: close`) */
  keepAlive: boolean;
}

/**
 * Collects a response head across reads: push() gives the head and the bytes after it once the blank line that
 * ends it has arrived, null before, and an Error for a head past MAX_HEAD.
 */
export class HeadReader {
  #buf: Buffer | null = null;

  push(chunk: Buffer): { head: ResponseHead; rest: Buffer } | null | Error {
    const buf = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    const end = buf.indexOf(CRLF2);
    if (end < 0) {
      this.#buf = buf;
      return buf.length > MAX_HEAD ? new Error('response head too large') : null;
    }
    this.#buf = null;
    return { head: parseHead(buf.toString('latin1', 0, end)), rest: buf.subarray(end + 4) };
  }
}

function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const head: ResponseHead = { status: Number(lines[0].slice(9, 12)), fields: [], length: -1, chunked: false, keepAlive: !lines[0].startsWith('HTTP/1.0') };
  for (let k = 1; k < lines.length; k++) {
    const c = lines[k].indexOf(':');
    if (c <= 0) continue;
    const name = lines[k].slice(0, c);
    const value = lines[k].slice(c + 1).trim();
    const lower = name.toLowerCase();
    if (lower === 'content-length') head.length = Number(value);
    else if (lower === 'transfer-encoding') head.chunked = /chunked/i.test(value);
    else if (lower === 'connection' && /close/i.test(value)) head.keepAlive = false;
    head.fields.push(name, value);
  }
  return head;
}
