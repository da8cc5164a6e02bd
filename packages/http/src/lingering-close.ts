// A refused upload is answered before its body has all arrived, on a connection that then closes (the body may be
// gigabytes: it is not read to its end first). Closed at once, the socket would still receive the peer's late body
// bytes, and the kernel answers bytes for a closed socket with a reset; a reset makes the peer's kernel drop what
// it has received and not yet read, our answer included. The gateway, under load, then saw a dropped connection
// instead of the 400. As nginx's lingering close does, the connection is half-closed after the answer and what still
// arrives is read and dropped until the peer closes, for at most `ms`.
import type { FastifyReply } from 'fastify';
import type { Socket } from 'node:net';

const LINGER_MS = 5_000;

/**
 * The answer goes out with `connection: close`, and the close after it lingers. node:http ends a connection it
 * answered with `connection: close` through the socket's destroySoon(), which this replaces on that one socket.
 */
export function closeAfterAnswer(reply: FastifyReply, ms = LINGER_MS): void {
  reply.header('connection', 'close');
  lingerOnClose(reply.raw.socket, ms);
}

export function lingerOnClose(socket: Socket | null, ms = LINGER_MS): void {
  if (!socket) return;
  (socket as Socket & { destroySoon: () => void }).destroySoon = () => {
    if (socket.destroyed) return;
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.once('close', () => clearTimeout(timer));
    // our FIN once the answer is flushed; node:http's parser goes on reading the rest of the request (dropped), and
    // the peer's own close, or the timer, ends the connection
    socket.end();
    socket.resume();
  };
}
