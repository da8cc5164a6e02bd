import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

const CRLF = Buffer.from('\r\n');

/**
 * Writes a request body to the socket as it arrives, as chunks when chunked, pausing it while the socket is full;
 * sent() once all of it has gone. Nothing more is written once over() says the exchange has ended.
 *
 * A request head given here goes out with the body's first bytes (or its end), in one write, as node:http does: an
 * upstream that answers from the head alone, without reading a small body, and closes, would otherwise have the
 * body arrive after its close, and the reset can take its answer with it (workerd does this). A head is written as
 * latin1, one byte per character: node:http reads a client's head so, and a header value's UTF-8 bytes go out as
 * they came (utf8 would send each such byte as two).
 */
export function pipeBody(body: Readable, socket: Socket, chunked: boolean, sent: () => void, over: () => boolean, head?: string): void {
  let pending = head;
  const flushHead = () => {
    if (pending === undefined) return;
    socket.write(pending, 'latin1');
    pending = undefined;
  };
  body.on('data', (d: Buffer) => {
    if (over()) return;
    let ok: boolean;
    socket.cork();
    flushHead();
    if (chunked) {
      // All three parts of a chunk are written whatever write() answers: a full buffer delays the next chunk,
      // it must never drop part of this one (corked, they go out as one writev, with the head if it is still due).
      socket.write(`${d.length.toString(16)}\r\n`);
      socket.write(d);
      ok = socket.write(CRLF);
    } else ok = socket.write(d);
    socket.uncork();
    if (!ok && !body.isPaused()) {
      body.pause();
      socket.once('drain', () => body.resume());
    }
  });
  body.once('end', () => {
    if (!over()) {
      socket.cork();
      flushHead();
      if (chunked) socket.write('0\r\n\r\n');
      socket.uncork();
    }
    sent();
  });
}
