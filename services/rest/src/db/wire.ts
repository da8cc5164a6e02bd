// The frontend messages of a pipeline (Parse, Bind, Describe, Execute, Sync), written into one buffer that goes to
// the socket in one write: node-pg's Connection writes each message as a buffer of its own (a stream write apiece,
// five or more per statement), and encodes every parameter with a call into C++, most of a GET by key's settings'
// cost. Parameters are encoded as node-pg's Bind does (its prepareValue for anything but a string; a Buffer is sent
// in binary format, null and undefined as SQL NULL); rows come back as text.
import pg from 'pg';

const prepareValue = (pg as unknown as { utils: { prepareValue: (v: unknown) => unknown } }).utils.prepareValue;

const EXECUTE = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0]); // E, unnamed portal, no row limit
const DESCRIBE_PORTAL = Buffer.from([0x44, 0, 0, 0, 6, 0x50, 0]); // D, portal '', the unnamed one
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
/** strings up to this long are copied char by char when they are ASCII: cheaper than a call into C++ */
const SHORT = 64;

export class WireWriter {
  #buf = Buffer.allocUnsafe(16 * 1024);
  #n = 0;

  #room(bytes: number): void {
    if (this.#n + bytes <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#n + bytes));
    this.#buf.copy(bigger, 0, 0, this.#n);
    this.#buf = bigger;
  }

  #int16(v: number): void {
    this.#buf[this.#n++] = (v >>> 8) & 0xff;
    this.#buf[this.#n++] = v & 0xff;
  }

  #int32At(at: number, v: number): void {
    this.#buf.writeInt32BE(v, at);
  }

  /** UTF-8 bytes of s at the end; returns how many */
  #utf8(s: string): number {
    const len = s.length;
    if (len <= SHORT) {
      this.#room(len);
      const buf = this.#buf;
      const at = this.#n;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === len) {
        this.#n += len;
        return len;
      }
    }
    this.#room(len * 3);
    const written = this.#buf.write(s, this.#n, 'utf8');
    this.#n += written;
    return written;
  }

  #cstring(s: string): void {
    this.#utf8(s);
    this.#room(1);
    this.#buf[this.#n++] = 0;
  }

  #raw(b: Buffer): void {
    this.#room(b.length);
    b.copy(this.#buf, this.#n);
    this.#n += b.length;
  }

  /** Parse: `text` prepared as `name` ('' for the unnamed statement), its parameter types left to the server */
  parse(name: string, text: string): void {
    this.#room(5);
    this.#buf[this.#n++] = 0x50;
    const at = this.#n;
    this.#n += 4;
    this.#cstring(name);
    this.#cstring(text);
    this.#room(2);
    this.#int16(0);
    this.#int32At(at, this.#n - at);
  }

  /** Bind: the unnamed portal to statement `name`, with `values`; every result column as text */
  bind(name: string, values: readonly unknown[]): void {
    const count = values.length;
    this.#room(5 + 1);
    this.#buf[this.#n++] = 0x42;
    const at = this.#n;
    this.#n += 4;
    this.#buf[this.#n++] = 0; // the unnamed portal
    this.#cstring(name);
    this.#room(4 + count * 2);
    this.#int16(count);
    const formats = this.#n; // each parameter's format code, filled in below
    this.#n += count * 2;
    this.#int16(count);
    for (let i = 0; i < count; i++) {
      const raw = values[i];
      const v = typeof raw === 'string' ? raw : prepareValue(raw);
      this.#room(4);
      const lengthAt = this.#n;
      this.#n += 4;
      let format = 0;
      if (v === null || v === undefined) {
        this.#int32At(lengthAt, -1);
      } else if (Buffer.isBuffer(v)) {
        format = 1;
        this.#raw(v);
        this.#int32At(lengthAt, v.length);
      } else {
        this.#int32At(lengthAt, this.#utf8(v as string));
      }
      this.#buf[formats + 2 * i] = 0;
      this.#buf[formats + 2 * i + 1] = format;
    }
    this.#room(4);
    this.#int16(1); // one result format code for all columns:
    this.#int16(0); // text
    this.#int32At(at, this.#n - at);
  }

  describePortal(): void {
    this.#raw(DESCRIBE_PORTAL);
  }

  execute(): void {
    this.#raw(EXECUTE);
  }

  sync(): void {
    this.#raw(SYNC);
  }

  /** What was written since the last take, as a buffer of its own (the writer goes on with its scratch space). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.#n);
    this.#buf.copy(out, 0, 0, this.#n);
    this.#n = 0;
    return out;
  }

  /** Drops what was written (an encoding that failed half-way). */
  reset(): void {
    this.#n = 0;
  }
}
