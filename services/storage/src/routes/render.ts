// /storage/v1/render/image/{authenticated|public|sign}/{bucket}/{name}?width&height&resize&format&quality: a
// transformed image, rendered once per object version and kept; a 304 costs no rendering.
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { defineRoute, notModified } from '@basalt/http';
import type { Project } from '@basalt/tenancy';
import { SERVICE, type Actor } from '../db/tx.js';
import { storedMediaType } from '../domain/mime.js';
import type { ObjectDomain } from '../domain/objects.js';
import { parseTransform, sniffImage, SNIFF_BYTES, transformFromKey, transformKey, variantOf, type renderer, type Transform } from '../domain/render.js';
import { verifySigned } from '../domain/signing.js';
import { objectAt } from './object-path.js';
import { setDownloadName } from './send-object.js';

export interface RenderRouteDeps {
  objects: (project: Project) => ObjectDomain;
  render: ReturnType<typeof renderer>;
}

const Query = z.record(z.string(), z.unknown());

/** The first bytes of an object (a range read of at most SNIFF_BYTES). */
async function readHead(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function sendRendered(req: FastifyRequest, reply: FastifyReply, deps: RenderRouteDeps, who: Actor, transform: Transform, publicOnly = false) {
  const { bucket, name } = objectAt(req);
  const o = deps.objects(req.storage.project);
  const row = await o.find(who, bucket, name, { publicOnly });
  const meta = row.metadata!;
  const kind = meta.size > 0 ? sniffImage(await readHead(await o.read(row, { start: 0, end: Math.min(meta.size, SNIFF_BYTES) - 1 }))) : null;
  const src = { ref: req.storage.project.ref, version: row.version!, kind, mimetype: storedMediaType(meta.mimetype).type, size: meta.size, read: () => o.read(row) };
  const variant = variantOf(src, transform, req.headers.accept);
  reply.header('content-type', variant.contentType);
  reply.header('etag', variant.etag);
  reply.header('last-modified', new Date(row.updated_at).toUTCString());
  reply.header('cache-control', meta.cacheControl);
  const applied = transformKey(transform);
  if (applied) reply.header('x-transformations', applied);
  reply.header('vary', 'accept');
  setDownloadName(req, reply, name);
  if (notModified(req.raw, variant.etag, new Date(row.updated_at))) return reply.code(304).send();
  const body = await deps.render(src, transform, variant);
  return reply.header('content-length', String(body.length)).send(body);
}

/** Public buckets and signed render URLs need no token; a signed URL's transform is the one it was signed for. */
export const publicRenderRoutes = (deps: RenderRouteDeps) => [
  defineRoute({
    method: 'GET', url: '/render/image/public/*', schema: { querystring: Query },
    handler: (req, reply) => sendRendered(req, reply, deps, SERVICE, parseTransform(req.query), true),
  }),
  defineRoute({
    method: 'GET', url: '/render/image/sign/*', schema: { querystring: Query },
    handler: (req, reply) => {
      const { bucket, name } = objectAt(req);
      const claims = verifySigned(req.storage.project, req.query.token, bucket, name, 'download', true);
      return sendRendered(req, reply, deps, SERVICE, transformFromKey(claims.transformations!));
    },
  }),
];

export const callerRenderRoutes = (deps: RenderRouteDeps) => [
  defineRoute({
    method: 'GET', url: '/render/image/authenticated/*', schema: { querystring: Query },
    handler: (req, reply) => sendRendered(req, reply, deps, req.storage.caller, parseTransform(req.query)),
  }),
];
