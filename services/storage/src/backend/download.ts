// A download in the form reply.send streams (something with pipe(), reporting 'end' or 'error', then 'close'),
// for backends that write into the response themselves: the filesystem backend reuses two buffers instead of
// allocating one per read, which under the service's small young generation is most of a download's CPU.
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';

export class Download extends EventEmitter {
  readonly readable = true;
  #piped = false;
  #destroyed = false;

  /** `copy` writes the bytes to dest and ends it; `release` frees what the download holds (its open file). */
  constructor(private readonly copy: (dest: Writable) => Promise<void>, private readonly release: () => Promise<void>) {
    super();
  }

  pipe<T extends Writable>(dest: T): T {
    this.#piped = true;
    this.copy(dest).then(
      () => this.emit('end'),
      // a destination that closed first (the client left) is not an error of the download's
      (e) => void (!this.#destroyed && this.listenerCount('error') > 0 && this.emit('error', e)),
    ).finally(() => this.release().catch(() => undefined).finally(() => this.emit('close')));
    return dest;
  }

  /** The response ended first: the copy loop sees its destination close and stops; an unpiped download releases now. */
  destroy(): void {
    this.#destroyed = true;
    if (!this.#piped) {
      this.#piped = true;
      void this.release().catch(() => undefined);
    }
  }
}
