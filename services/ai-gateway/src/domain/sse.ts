// Server-sent events as both providers write them: frames split on a blank line, `event:` and `data:` fields
// (one leading space stripped, several data lines joined with \n), `:` comment lines ignored.
import { ResponseTooLarge } from '../clients/upstream.js';

export interface SseFrame {
  event: string | null;
  data: string;
  /** the frame as received, with its terminating blank line, for byte-exact passthrough */
  raw: string;
}

export function parseFrame(raw: string): SseFrame {
  let event: string | null = null;
  const data: string[] = [];
  for (const line of raw.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { event, data: data.join('\n'), raw };
}

/**
 * Frames as they arrive; a trailing frame without its blank line is still yielded at the end. A frame longer than
 * `maxChars` throws ResponseTooLarge: a provider's line that never ends would otherwise be held whole. Each chunk
 * is searched for a boundary from where the last search stopped, not from the frame's start (which was quadratic:
 * 64 MB without a blank line blocked the event loop for over a minute).
 */
export async function* sseFrames(chunks: AsyncIterable<Uint8Array>, maxChars = Infinity): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  const boundary = /\r?\n\r?\n/g; // this generator's own: lastIndex is state
  let buffer = '';
  for await (const chunk of chunks) {
    // a boundary (at most 4 characters) may have begun in the last 3 characters searched
    boundary.lastIndex = Math.max(0, buffer.length - 3);
    buffer += decoder.decode(chunk, { stream: true });
    let start = 0;
    let m: RegExpExecArray | null;
    while ((m = boundary.exec(buffer))) {
      const end = m.index + m[0].length;
      const raw = buffer.slice(start, end);
      start = end;
      if (raw.trim() !== '') yield parseFrame(raw);
      boundary.lastIndex = end;
    }
    buffer = buffer.slice(start);
    if (buffer.length > maxChars) throw new ResponseTooLarge(maxChars);
  }
  buffer += decoder.decode();
  if (buffer.trim() !== '') yield parseFrame(`${buffer}\n\n`);
}

export const sseData = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
export const sseEvent = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
