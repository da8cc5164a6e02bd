/** Decodes a chunked body into its payload; push() returns true once the last chunk and trailers are read. */
export class ChunkedDecoder {
  #state: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  #left = 0;
  #line = '';

  push(data: Buffer, emit: (payload: Buffer) => void): boolean {
    let i = 0;
    while (i < data.length) {
      if (this.#state === 'data') {
        const take = Math.min(this.#left, data.length - i);
        emit(data.subarray(i, i + take));
        this.#left -= take;
        i += take;
        if (this.#left === 0) this.#state = 'data-end';
        continue;
      }
      const nl = data.indexOf(10, i);
      if (nl < 0) {
        this.#line += data.toString('latin1', i);
        if (this.#line.length > 8192) throw new Error('chunk line too long');
        return false;
      }
      const line = (this.#line + data.toString('latin1', i, nl)).replace(/\r$/, '');
      this.#line = '';
      i = nl + 1;
      if (this.#state === 'size') {
        const size = parseInt(line, 16);
        if (Number.isNaN(size) || size < 0) throw new Error('bad chunk size');
        if (size === 0) this.#state = 'trailer';
        else {
          this.#left = size;
          this.#state = 'data';
        }
      } else if (this.#state === 'data-end') this.#state = 'size';
      else if (line === '') return true; // blank line after the last chunk's trailers
    }
    return false;
  }
}
