const CRLF2 = Buffer.from('\r\n\r\n');
/** a response head larger than this is refused (node:http's own limit is 16 KB) */
export const MAX_HEAD = 64 * 1024;

export interface ResponseHead {
  status: number;
  /** header fields as sent: name, value, name, value, … */
  fields: string[];
  /** the fields' names in lower case, in order: names[k] is the name of fields[2k] */
  names: string[];
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

/** optional whitespace: a space or a tab */
const ows = (code: number) => code === 32 || code === 9;

function parseHead(text: string): ResponseHead {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const head: ResponseHead = { status: Number(text.slice(9, 12)), fields: [], names: [], length: -1, chunked: false, keepAlive: !text.startsWith('HTTP/1.0') };
  // one pass over the lines, slicing each name and value out of the head (no array of lines, no trim() copies)
  for (let at = eol + 2; at < text.length; at = eol + 2) {
    eol = text.indexOf('\r\n', at);
    if (eol < 0) eol = text.length;
    const c = text.indexOf(':', at);
    if (c <= at || c > eol) continue;
    let from = c + 1;
    let to = eol;
    while (from < to && ows(text.charCodeAt(from))) from++;
    while (to > from && ows(text.charCodeAt(to - 1))) to--;
    // whitespace before the colon is not part of the name, and a proxy removes it (RFC 9112, section 5.1)
    let end = c;
    while (end > at && ows(text.charCodeAt(end - 1))) end--;
    const name = text.slice(at, end);
    const value = text.slice(from, to);
    const lower = name.toLowerCase();
    if (lower === 'content-length') head.length = Number(value);
    else if (lower === 'transfer-encoding') head.chunked = /chunked/i.test(value);
    else if (lower === 'connection' && /close/i.test(value)) head.keepAlive = false;
    head.fields.push(name, value);
    head.names.push(lower);
  }
  return head;
}
