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
 * The response head at the start of buf and the bytes after it; null while the blank line that ends it has not
 * arrived. Throws on a head past MAX_HEAD.
 */
export function parseHead(buf: Buffer): { head: ResponseHead; rest: Buffer } | null {
  const end = buf.indexOf(CRLF2);
  if (end < 0) {
    if (buf.length > MAX_HEAD) throw new Error('response head too large');
    return null;
  }
  const lines = buf.toString('latin1', 0, end).split('\r\n');
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
  return { head, rest: buf.subarray(end + 4) };
}
