// A request body handed to a backend that reads it later.
import type { Readable, Writable } from 'node:stream';

/**
 * `source` piped into `into`, which a backend reads later: between the two, a route still awaits its checks (the
 * bucket, RLS), and the body may fail meanwhile (bad framing, a hash mismatch, a form cut short, a client gone).
 * Such an error (as `mapError` renders it) is kept on `into` (destroyed with it; the backend's pipeline reads it
 * from there) rather than emitted with no listener, which would end the process. A failing `into` does not destroy
 * `source`: the request stays open for the error's answer, as with pipe().
 */
export function feed<T extends Writable>(source: Readable, into: T, mapError: (e: Error) => Error = (e) => e): T {
  into.on('error', () => undefined);
  if (source.errored) into.destroy(mapError(source.errored));
  else source.on('error', (e) => into.destroy(mapError(e)));
  return source.pipe(into);
}
