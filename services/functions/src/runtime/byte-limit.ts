// Bodies streamed on up to a number of bytes: a request into an isolate, its answer out, an outbound request's body.
import { PassThrough, type Readable } from 'node:stream';

/**
 * `source` piped on through a new PassThrough that counts its bytes. Once more than `max` have come, `source` is
 * unpiped and `over(out)` runs, once: what then becomes of both (the rest dropped, either destroyed) is the caller's.
 */
export function passUpTo(source: Readable, max: number, over: (out: PassThrough) => void): PassThrough {
  let seen = 0;
  const out = new PassThrough();
  const count = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= max) return;
    source.off('data', count);
    source.unpipe(out);
    over(out);
  };
  source.on('data', count);
  source.pipe(out);
  return out;
}
