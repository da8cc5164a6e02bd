// A response body of the HTTP/1.1 client: an async iterable that pauses the socket while its reader lags
// (backpressure from a slow client reaches the provider).
import type net from 'node:net';

// chunks held for a reader that lags before the socket is paused
const HIGH_WATER = 16;

/** a body (or one event-stream frame) past the size the gateway reads of a provider's answer */
export class ResponseTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${limit} bytes`);
  }
}

export class ResponseBody implements AsyncIterable<Uint8Array> {
  #chunks: Buffer[] = [];
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #dropped = false;

  /** `cancel` gives the connection up: the body will not be read to its end */
  constructor(private readonly socket: net.Socket, private readonly cancel: () => void) {}

  push(chunk: Buffer): void {
    if (this.#dropped) return;
    this.#chunks.push(chunk);
    if (this.#chunks.length >= HIGH_WATER) this.socket.pause();
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(err: Error): void {
    if (this.#ended) return;
    this.#error = err;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** drops a body nobody will read, reading it off so the connection can serve another request */
  discard(): void {
    this.#dropped = true;
    this.#chunks = [];
    this.socket.resume();
  }

  /** the whole body as text; past `maxBytes` the connection is given up and ResponseTooLarge thrown */
  async text(maxBytes = Infinity): Promise<string> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of this) {
      size += chunk.length;
      if (size > maxBytes) throw new ResponseTooLarge(maxBytes); // leaving the loop cancels the body
      parts.push(chunk);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      for (;;) {
        const chunk = this.#chunks.shift();
        if (chunk) {
          if (this.#chunks.length === 0) this.socket.resume();
          return { value: chunk, done: false };
        }
        if (this.#error) throw this.#error;
        if (this.#ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    };
    const stop = async (): Promise<IteratorResult<Uint8Array>> => {
      if (!this.#ended && !this.#error) this.cancel();
      return { value: undefined, done: true };
    };
    return { next, return: stop };
  }
}
