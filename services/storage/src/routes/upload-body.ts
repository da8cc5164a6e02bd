// The two encodings storage-js uploads with (api-compat §3.2): a multipart form whose fields (cacheControl,
// contentType, metadata) come before the file part, or the raw bytes with cache-control, content-type and
// x-metadata (base64 JSON) headers. Either way the bytes are handed on as a stream, never buffered.
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import busboy from 'busboy';
import { storageErrors } from '../errors.js';
import { feed } from '../domain/feed.js';
import { objectContentType, parseMediaType } from '../domain/mime.js';
import type { UploadHead } from '../domain/objects.js';

export interface UploadBody {
  head: UploadHead;
  stream: Readable;
}

const cacheControlOf = (seconds: string | undefined) =>
  seconds === undefined || seconds === '' ? 'no-cache' : /^\d+$/.test(seconds) ? `max-age=${seconds}` : seconds;

function userMetadata(json: string | undefined): Record<string, unknown> | null {
  if (json === undefined || json === '') return null;
  try {
    const v = JSON.parse(json);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {
    /* refused below */
  }
  throw storageErrors.invalidRequest('metadata must be a JSON object');
}

export function declaredLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * The file part as the upload reads it. Busboy ends it with its own error when the form stops inside it (a 400 here:
 * the client's body is malformed) and not at all when the client goes away mid-form, so a request that closes
 * unfinished ends it as an interrupted transfer. Until the backend reads it (after the route's awaits) its error is
 * kept on the stream, not emitted with no listener, which would end the process.
 */
function filePart(req: IncomingMessage, bb: busboy.Busboy, file: Readable): Readable {
  req.once('close', () => {
    if (!req.complete) bb.destroy(new Error('aborted'));
  });
  return feed(file, new PassThrough(), (e) => (e.message === 'aborted' ? e : storageErrors.invalidRequest(`Malformed multipart body: ${e.message}`)));
}

export function readUploadBody(req: IncomingMessage): Promise<UploadBody> {
  const type = req.headers['content-type'];
  // a request type that does not parse is refused here, as the object's type, rather than guessed at
  if (parseMediaType(type)?.type !== 'multipart/form-data') {
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
    const meta = header('x-metadata');
    let decoded: string | undefined;
    if (meta !== undefined) decoded = Buffer.from(meta, 'base64').toString('utf8');
    return Promise.resolve({
      head: {
        contentType: objectContentType(type),
        cacheControl: header('cache-control') ?? 'no-cache',
        userMetadata: userMetadata(decoded),
      },
      stream: req,
    });
  }
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 64 * 1024 } });
    } catch (e) {
      return reject(storageErrors.invalidRequest((e as Error).message));
    }
    const fields: Record<string, string> = {};
    let settled = false;
    bb.on('field', (name, value) => (fields[name] = value));
    bb.on('file', (_name, stream, info) => {
      if (settled) return void stream.resume();
      settled = true;
      try {
        resolve({
          head: {
            contentType: objectContentType(fields.contentType || info.mimeType),
            cacheControl: cacheControlOf(fields.cacheControl),
            userMetadata: userMetadata(fields.metadata ?? fields.userMetadata),
          },
          stream: filePart(req, bb, stream),
        });
      } catch (e) {
        stream.resume();
        reject(e);
      }
    });
    bb.on('error', (e) => {
      if (!settled) reject(storageErrors.invalidRequest(`Malformed multipart body: ${(e as Error).message}`));
      settled = true;
    });
    bb.on('close', () => {
      if (!settled) reject(storageErrors.invalidRequest('The multipart body has no file'));
      settled = true;
    });
    req.pipe(bb);
  });
}
