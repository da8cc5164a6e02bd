// The body of an outbound request. None of it is read before the first hop's address is allowed, so a refused
// request costs no upload, whatever its size. Then up to REPLAY_BYTES are read into memory: a body that ends within
// them is sent with its length, and sent again on a 307/308 as fetch's "follow" mode does; a longer one streams
// through, never held whole, and cannot follow a redirect that would send it again (fetch refuses that for any
// stream body; keeping small ones is what lets the usual JSON or form post still be redirected).
import type http from 'node:http';

export const REPLAY_BYTES = 1024 * 1024;

/**
 * A body its request no longer sends (refused, failed, aborted) is read on and dropped, up to DRAIN_BYTES, then left
 * to its sender: never canceled. Its sender may wait for its upload to end before it reads an answer (workerd does,
 * behind a function's fetch), and canceling a stream made by Node 20's Readable.toWeb (what the functions runtime
 * hands over) can throw from inside Node ("Controller is already closed") and take the process down.
 */
export const DRAIN_BYTES = 64 * 1024 * 1024;

/** A body's bytes pulled one chunk at a time; after drop() next() throws, a pending call too. */
export interface Chunks {
  next(): Promise<Buffer | null>;
  drop(reason: Error): void;
}

/**
 * Not read yet. `length`: the content-length its sender declared, if any. `again`: open() may be called once more
 * for the same bytes (a Blob), so a redirect can send a streamed body again, as fetch does with a Blob.
 */
export interface Unread { kind: 'unread'; open: () => Chunks; length: number | null; again?: boolean }

/** Longer than REPLAY_BYTES: the chunks read to find that out, and the rest still in the source; `again`: where
 * the same bytes can be read from once more, if anywhere */
export interface Streamed { kind: 'streamed'; head: Buffer[]; rest: Chunks; length: number | null; again: Unread | null }

export type Body = Buffer | Unread | Streamed | null;

export const isUnread = (b: Body): b is Unread => b !== null && 'kind' in b && b.kind === 'unread';
export const isStreamed = (b: Body): b is Streamed => b !== null && 'kind' in b && b.kind === 'streamed';

function bytes(value: unknown): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value);
  throw new TypeError('outbound request body chunk is not bytes');
}

type Reader = ReadableStreamDefaultReader<unknown>;

async function drain(reader: Reader): Promise<void> {
  try {
    for (let dropped = 0; dropped <= DRAIN_BYTES;) {
      const r = await reader.read();
      if (r.done) return;
      dropped += bytes(r.value).length;
    }
    reader.releaseLock();
  } catch { /* the source failed: nothing is left to drop */ }
}

/** A web stream's chunks, this realm's or another fetch implementation's (anything with getReader()). */
export function streamChunks(stream: { getReader(): Reader }): Chunks {
  const reader = stream.getReader();
  let stopped: Error | null = null;
  let interrupt: ((e: Error) => void) | null = null;
  return {
    async next() {
      if (stopped) throw stopped;
      const r = await new Promise<Awaited<ReturnType<Reader['read']>>>((resolve, reject) => {
        interrupt = reject;
        reader.read().then(resolve, reject);
      });
      interrupt = null;
      return r.done ? null : bytes(r.value);
    },
    drop(reason) {
      if (stopped) return;
      stopped = reason;
      interrupt?.(reason);
      void drain(reader);
    },
  };
}

/** A body only loadable whole (a foreign Request without a stream): one chunk, loaded once asked for. */
export function loadedChunks(load: () => Promise<ArrayBuffer>): Chunks {
  let state: 'unread' | 'read' | Error = 'unread';
  // a load under way ends with drop(): an abort or the deadline does not wait for a body that may never end
  let interrupt: ((e: Error) => void) | null = null;
  return {
    async next() {
      if (state instanceof Error) throw state;
      if (state === 'read') return null;
      state = 'read';
      const loaded = await new Promise<ArrayBuffer>((resolve, reject) => {
        interrupt = reject;
        load().then(resolve, reject);
      });
      interrupt = null;
      return bytes(loaded);
    },
    drop(reason) {
      if (state === 'unread') state = reason;
      interrupt?.(reason);
    },
  };
}

export function unread(open: () => Chunks, headers: Record<string, string>): Unread {
  const declared = headers['content-length'];
  const length = declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : null;
  return { kind: 'unread', open, length };
}

/** Drops a body never opened; one that cannot be opened (its stream taken already) is its sender's. */
export function dropUnread(body: Unread, reason: Error): void {
  if (body.again) return; // a Blob: no sender waits on it
  try {
    body.open().drop(reason);
  } catch { /* nothing of it is ours to drop */ }
}

/** A Blob: its size is its length (fetch declares it), and it can be read again for a redirect. */
export function blobBody(blob: Blob): Unread {
  return { kind: 'unread', open: () => streamChunks(blob.stream()), length: blob.size, again: true };
}

/** Reads up to REPLAY_BYTES of `body` (opened as `source`): the whole of it, or what was read of a longer one and the rest. */
export async function settle(body: Unread, source: Chunks): Promise<Buffer | Streamed> {
  const head: Buffer[] = [];
  let size = 0;
  for (let c = await source.next(); c !== null; c = await source.next()) {
    head.push(c);
    size += c.length;
    if (size > REPLAY_BYTES) return { kind: 'streamed', head, rest: source, length: body.length, again: body.again ? body : null };
  }
  return Buffer.concat(head, size);
}

const drained = (req: http.ClientRequest) => new Promise<void>((resolve) => {
  const go = () => {
    req.off('drain', go);
    req.off('close', go);
    resolve();
  };
  req.on('drain', go);
  req.on('close', go);
});

/**
 * Writes a streamed body as the connection takes it. One that does not match its declared length is cut off (the
 * connection is destroyed) instead of ended: bytes past a content-length would be read as another request on a
 * kept-alive connection, and a short body would leave the upstream waiting.
 */
export async function pump(req: http.ClientRequest, body: Streamed): Promise<void> {
  let sent = 0;
  let ended = false;
  req.once('close', () => {
    if (!ended) body.rest.drop(new Error('outbound request closed'));
  });
  const write = async (c: Buffer) => {
    sent += c.length;
    if (body.length !== null && sent > body.length) throw new Error(`outbound request body is longer than its content-length (${body.length})`);
    if (req.destroyed) throw new Error('outbound request closed');
    if (!req.write(c)) await drained(req);
  };
  try {
    const head = body.head;
    body.head = []; // sent, so not held for the rest of the upload
    for (const c of head) await write(c);
    for (let c = await body.rest.next(); c !== null; c = await body.rest.next()) await write(c);
    if (body.length !== null && sent !== body.length) throw new Error(`outbound request body is shorter than its content-length (${body.length})`);
    if (req.destroyed) throw new Error('outbound request closed');
    ended = true;
    req.end();
  } catch (e) {
    body.rest.drop(e as Error);
    req.destroy(e as Error);
  }
}
