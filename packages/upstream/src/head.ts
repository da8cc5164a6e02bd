const CRLF2 = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
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

/** An answer that arrived and cannot be read as HTTP: the server did answer (so the request was not lost unsent). */
export class InvalidResponse extends Error {}

/** interim (1xx) answers skipped before a final one: a server sends one 100 Continue at most */
export const MAX_INTERIM = 16;

const STATUS_LINE = /^HTTP\/1\.[01] \d{3}(?: |$)/;

/**
 * Collects a response head across reads: push() gives the final head (interim 1xx answers skipped) and the bytes
 * after it once the blank line that ends it has arrived, null before, and an Error for a head past MAX_HEAD, a
 * status line that is not HTTP/1.x's or more than MAX_INTERIM interim answers. Reads are kept as they come and
 * joined once the head is whole: joining on every read copied a head sent a byte at a time over and over.
 */
export class HeadReader {
  #chunks: Buffer[] = [];
  #length = 0;
  /** the last (up to) 3 bytes kept: the blank line may begin in them and end in the next read */
  #tail: Buffer = EMPTY;
  #interim = 0;

  push(chunk: Buffer): { head: ResponseHead; rest: Buffer } | null | InvalidResponse {
    for (;;) {
      const probe = this.#tail.length ? Buffer.concat([this.#tail, chunk]) : chunk;
      const at = probe.indexOf(CRLF2);
      if (at < 0) {
        this.#keep(chunk);
        return this.#length > MAX_HEAD ? new InvalidResponse('response head too large') : null;
      }
      const end = this.#length - this.#tail.length + at;
      const all = this.#chunks.length ? Buffer.concat([...this.#chunks, chunk]) : chunk;
      if (this.#chunks.length) this.#chunks = [];
      this.#length = 0;
      this.#tail = EMPTY;
      if (end > MAX_HEAD) return new InvalidResponse('response head too large');
      const text = all.toString('latin1', 0, end);
      if (!STATUS_LINE.test(text)) return new InvalidResponse('the response status line is not HTTP/1.x');
      const head = parseHead(text);
      const rest = all.subarray(end + 4);
      if (head.status >= 200) return { head, rest };
      if (++this.#interim > MAX_INTERIM) return new InvalidResponse(`more than ${MAX_INTERIM} interim (1xx) responses`);
      if (rest.length === 0) return null;
      chunk = rest; // the next answer's head began in the same read
    }
  }

  #keep(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    this.#tail = chunk.length >= 3 ? chunk.subarray(chunk.length - 3) : Buffer.concat([this.#tail, chunk]).subarray(-3);
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
