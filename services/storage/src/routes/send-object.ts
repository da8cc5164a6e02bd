// A stored object as an HTTP answer: served type (never the stored one echoed), caching validators, byte
// ranges, download names, and the bytes streamed from the backend (never buffered).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { storageErrors } from '../errors.js';
import type { ObjectDomain, ObjectRow } from '../domain/objects.js';
import { SANDBOX_CSP, servedContentType } from '../domain/mime.js';
import { notModified } from '@basalt/http';
import { attachment, parseRange } from './http-cache.js';

/** ?download=name saves under that name; a bare ?download under the object's own file name. */
export function setDownloadName(req: FastifyRequest, reply: FastifyReply, objectName: string): void {
  const download = (req.query as Record<string, unknown>).download;
  if (download !== undefined) reply.header('content-disposition', attachment(String(download) || objectName.split('/').pop()!));
}

/**
 * `cacheControl` overrides the object's own (the CDN host decides its caching itself); `override` sets response
 * headers a request asked for (S3's response-* parameters), a content type among them only as it would be served.
 */
export async function sendObject(req: FastifyRequest, reply: FastifyReply, o: ObjectDomain, row: ObjectRow,
  opts: { cacheControl?: string; override?: Record<string, string> } = {}): Promise<FastifyReply> {
  const meta = row.metadata!;
  const lastModified = new Date(row.updated_at);
  // Uploaded content never runs on the API's origin (stored XSS): the type served is decided from a parse of
  // the stored one (X-Content-Type-Options: nosniff is set on every response, in app.ts).
  const served = servedContentType(meta.mimetype);
  reply.header('content-type', served.contentType);
  if (served.sandbox) reply.header('content-security-policy', SANDBOX_CSP);
  reply.header('etag', meta.eTag);
  reply.header('last-modified', lastModified.toUTCString());
  reply.header('cache-control', opts.cacheControl ?? meta.cacheControl);
  reply.header('accept-ranges', 'bytes');
  setDownloadName(req, reply, row.name);
  for (const [name, value] of Object.entries(opts.override ?? {})) {
    if (name !== 'content-type') {
      reply.header(name, value);
      continue;
    }
    const asked = servedContentType(value);
    reply.header(name, asked.contentType);
    if (asked.sandbox) reply.header('content-security-policy', SANDBOX_CSP);
  }
  if (notModified(req.raw, meta.eTag, lastModified)) return reply.code(304).send();
  const range = parseRange(req.headers.range, meta.size);
  if (range === null) {
    reply.header('content-range', `bytes */${meta.size}`);
    throw storageErrors.invalidRange();
  }
  if (range) {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${meta.size}`);
    reply.header('content-length', String(range.end - range.start + 1));
  } else {
    reply.header('content-length', String(meta.size));
  }
  if (req.method === 'HEAD') return reply.send();
  return reply.send(await o.download(row, range));
}
