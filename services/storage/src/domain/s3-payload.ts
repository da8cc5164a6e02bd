// The bytes of an S3 request body as its x-amz-content-sha256 declares them: a hex SHA-256 (checked as the bytes
// pass; a mismatch fails the write before its row commits), UNSIGNED-PAYLOAD, or aws-chunked framing (chunk
// signatures checked one by one, each as its chunk ends, the same way; trailing checksums read off and not applied).
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { BasaltError } from '@basalt/errors';
import { feed } from './feed.js';
import { chunkSignatureOf, type ClientSignature } from './sigv4.js';

const s3Error = (status: number, code: string, message: string) => new BasaltError(status, code, message, { details: { statusCode: String(status), error: code } });

export const payloadErrors = {
  shaMismatch: () => s3Error(400, 'XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.'),
  badChunk: (m: string) => s3Error(400, 'IncompleteBody', m),
  chunkSignature: () => s3Error(403, 'SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.'),
};

class HashCheck extends Transform {
  readonly #hash = createHash('sha256');
  constructor(private readonly expected: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.#hash.update(chunk);
    done(null, chunk);
  }
  override _flush(done: TransformCallback) {
    done(this.#hash.digest('hex') === this.expected ? null : payloadErrors.shaMismatch());
  }
}

/** Bounded framing lines: a chunk header or a trailer line longer than this is not aws-chunked. */
const MAX_LINE = 4096;

/** aws-chunked: `<hex size>[;chunk-signature=<sig>]\r\n<bytes>\r\n` … a zero-size chunk, optional trailers, `\r\n`. */
class ChunkDecoder extends Transform {
  #buf: Buffer = Buffer.alloc(0);
  #need = -1; // bytes of the current chunk still to come; -1 while a header line is expected
  #chunkSig: string | null = null;
  /** the SHA-256 of the current chunk so far: its bytes pass on as they come, never held whole (a chunk's size is the client's to claim) */
  #chunkHash: Hash | null = null;
  #previous: string;
  #ended = false;

  constructor(private readonly verify: ((previous: string, chunkSha256: string) => string) | null, seed: string) {
    super();
    this.#previous = seed;
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, data]) : data;
    try {
      this.#drain();
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  #drain() {
    while (!this.#ended) {
      if (this.#need < 0) {
        const eol = this.#buf.indexOf('\r\n');
        if (eol < 0) {
          if (this.#buf.length > MAX_LINE) throw payloadErrors.badChunk('Malformed aws-chunked body');
          return;
        }
        const line = this.#buf.subarray(0, eol).toString('latin1');
        this.#buf = this.#buf.subarray(eol + 2);
        const m = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(line);
        if (!m) throw payloadErrors.badChunk('Malformed aws-chunked body');
        if (this.verify && !m[2]) throw payloadErrors.chunkSignature();
        this.#need = parseInt(m[1], 16);
        this.#chunkSig = m[2] ?? null;
        this.#chunkHash = this.verify ? createHash('sha256') : null;
        if (this.#need === 0) this.#finishChunk(true);
        continue;
      }
      if (this.#need > 0) {
        if (this.#buf.length === 0) return;
        const take = this.#buf.subarray(0, Math.min(this.#need, this.#buf.length));
        this.#buf = this.#buf.subarray(take.length);
        this.#need -= take.length;
        this.#chunkHash?.update(take);
        this.push(take);
        if (this.#need > 0) return;
      }
      if (this.#buf.length < 2) return;
      if (this.#buf[0] !== 13 || this.#buf[1] !== 10) throw payloadErrors.badChunk('Malformed aws-chunked body');
      this.#buf = this.#buf.subarray(2);
      this.#finishChunk(false);
      this.#need = -1;
    }
  }

  #finishChunk(last: boolean) {
    if (this.verify) {
      const expected = this.verify(this.#previous, this.#chunkHash!.digest('hex'));
      if (expected !== this.#chunkSig) throw payloadErrors.chunkSignature();
      this.#previous = expected;
    }
    // the last chunk: whatever follows (trailer lines, the closing CRLF) is not object data
    if (last) this.#ended = true;
  }

  override _flush(done: TransformCallback) {
    done(this.#ended ? null : payloadErrors.badChunk('The aws-chunked body ended before its last chunk'));
  }
}

/** Passes bytes on and keeps their MD5: an S3 ETag, read once the stream has ended. */
export class Md5Tap extends Transform {
  readonly #hash = createHash('md5');
  #hex: string | null = null;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.#hash.update(chunk);
    done(null, chunk);
  }
  override _flush(done: TransformCallback) {
    this.#hex = this.#hash.digest('hex');
    done();
  }
  get hex(): string {
    if (this.#hex === null) throw new Error('the MD5 of a stream is known once it has ended');
    return this.#hex;
  }
}

/** `source` through a new tap; errors of the source end the tap (see feed). */
export const md5Tap = (source: Readable): Md5Tap => feed(source, new Md5Tap());

export interface Payload {
  stream: Readable;
  /** the object's size when the request declares it (x-amz-decoded-content-length or content-length) */
  length?: number;
}

/** The object bytes of an S3 request; `key` is the signing key when the request was signed in a header. */
export function s3Payload(body: Readable, headers: Record<string, string | string[] | undefined>, sig: ClientSignature | null, key: Buffer | null): Payload {
  const declared = String(headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD');
  const int = (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  if (declared.startsWith('STREAMING-')) {
    const signed = declared.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD') && sig && key;
    const decoder = new ChunkDecoder(signed ? (prev, hash) => chunkSignatureOf(key!, sig!, prev, hash) : null, sig?.signature ?? '');
    return { stream: feed(body, decoder), length: int(headers['x-amz-decoded-content-length']) };
  }
  const length = int(headers['content-length']);
  if (/^[0-9a-f]{64}$/.test(declared)) {
    return { stream: feed(body, new HashCheck(declared)), length };
  }
  return { stream: body, length };
}
