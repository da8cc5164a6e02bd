// Server-sent events as both providers write them: frames split on a blank line, `event:` and `data:` fields
// (one leading space stripped, several data lines joined with \n), `:` comment lines ignored.
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

const BOUNDARY = /\r?\n\r?\n/;

/** Frames as they arrive; a trailing frame without its blank line is still yielded at the end. */
export async function* sseFrames(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    let m: RegExpExecArray | null;
    while ((m = BOUNDARY.exec(buffer))) {
      const end = m.index + m[0].length;
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end);
      if (raw.trim() !== '') yield parseFrame(raw);
    }
  }
  buffer += decoder.decode();
  if (buffer.trim() !== '') yield parseFrame(`${buffer}\n\n`);
}

export const sseData = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
export const sseEvent = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
