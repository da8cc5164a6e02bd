import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

const CRLF = Buffer.from('\r\n');

/**
 * Writes a request body to the socket as it arrives, as chunks when chunked, pausing it while the socket is full;
 * sent() once all of it has gone. Nothing more is written once over() says the exchange has ended.
 */
export function pipeBody(body: Readable, socket: Socket, chunked: boolean, sent: () => void, over: () => boolean): void {
  body.on('data', (d: Buffer) => {
    if (over()) return;
    let ok: boolean;
    if (chunked) {
      // All three parts of a chunk are written whatever write() answers: a full buffer delays the next chunk,
      // it must never drop part of this one (corked, they go out as one writev).
      socket.cork();
      socket.write(`${d.length.toString(16)}\r\n`);
      socket.write(d);
      ok = socket.write(CRLF);
      socket.uncork();
    } else ok = socket.write(d);
    if (!ok && !body.isPaused()) {
      body.pause();
      socket.once('drain', () => body.resume());
    }
  });
  body.once('end', () => {
    if (chunked && !over()) socket.write('0\r\n\r\n');
    sent();
  });
}
