// /storage/v1/upload/resumable: TUS 1.0.0 (creation, creation-with-upload, termination) for tus-js-client and
// Uppy, with Supabase's Upload-Metadata keys: bucketName, objectName, contentType, cacheControl, metadata.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { defineRoute, projectBaseUrl } from '@basalt/http';
import type { Project } from '@basalt/tenancy';
import { objectContentType } from '../domain/mime.js';
import { tusErrors, type ResumableDomain } from '../domain/resumable.js';
import { declaredLength } from './upload-body.js';

export interface ResumableRouteDeps {
  resumable: (p: Project) => ResumableDomain;
  maxFileSize: number;
  publicUrl: string;
}

const TUS = { 'tus-resumable': '1.0.0' };
const OFFSET_STREAM = 'application/offset+octet-stream';
const UploadId = z.object({ id: z.string() });

/** `key base64,key base64,…` */
function parseMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (header ?? '').split(',')) {
    const [k, v] = pair.trim().split(' ');
    if (k) out[k] = v ? Buffer.from(v, 'base64').toString('utf8') : '';
  }
  return out;
}

const intHeader = (req: FastifyRequest, name: string): number | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
};

/** TUS answers have no body: the status and headers are the answer. */
const done = (reply: FastifyReply, status: number, headers: Record<string, string> = {}) => reply.code(status).headers({ ...TUS, ...headers }).send();

/** Capabilities: asked before anything else, with no token. */
export const tusOptionsRoutes = ({ maxFileSize }: ResumableRouteDeps) => [
  defineRoute({
    method: 'OPTIONS', url: '/upload/resumable',
    handler: (_req, reply) => done(reply, 204, { 'tus-version': '1.0.0', 'tus-extension': 'creation,creation-with-upload,termination', 'tus-max-size': String(maxFileSize) }),
  }),
  defineRoute({
    method: 'OPTIONS', url: '/upload/resumable/:id',
    handler: (_req, reply) => done(reply, 204, { 'tus-version': '1.0.0', 'tus-extension': 'creation,creation-with-upload,termination', 'tus-max-size': String(maxFileSize) }),
  }),
];

/** Everything else as the caller; chunk bodies stream to the backend. */
export const resumableRoutes = ({ resumable, publicUrl }: ResumableRouteDeps) => [
  defineRoute({ method: 'POST', url: '/upload/resumable', handler: (req, reply) => create(resumable(req.storage.project), req, reply, publicUrl) }),
  defineRoute({
    method: 'HEAD', url: '/upload/resumable/:id', schema: { params: UploadId },
    handler: async (req, reply) => {
      const row = await resumable(req.storage.project).load(req.storage.caller, req.params.id);
      return done(reply, 200, { 'upload-offset': String(row.upload_offset), 'upload-length': String(row.upload_length), 'cache-control': 'no-store' });
    },
  }),
  defineRoute({
    method: 'PATCH', url: '/upload/resumable/:id', schema: { params: UploadId },
    handler: async (req, reply) => {
      if (req.headers['content-type'] !== OFFSET_STREAM) return done(reply, 415);
      const offset = intHeader(req, 'upload-offset');
      if (offset === undefined) throw tusErrors.badRequest('Upload-Offset is required');
      const next = await resumable(req.storage.project).patch(req.storage.caller, req.params.id, offset, req.raw, declaredLength(req.raw));
      return done(reply, 204, { 'upload-offset': String(next) });
    },
  }),
  defineRoute({
    method: 'DELETE', url: '/upload/resumable/:id', schema: { params: UploadId },
    handler: async (req, reply) => {
      await resumable(req.storage.project).remove(req.storage.caller, req.params.id);
      return done(reply, 204);
    },
  }),
];

/** Creation, and creation-with-upload: the first bytes may come with the POST. */
async function create(uploads: ResumableDomain, req: FastifyRequest, reply: FastifyReply, publicUrl: string) {
  const length = intHeader(req, 'upload-length');
  if (length === undefined) throw tusErrors.badRequest('Upload-Length is required (deferred lengths are not supported)');
  const meta = parseMetadata(req.headers['upload-metadata'] as string | undefined);
  if (!meta.bucketName || !meta.objectName) throw tusErrors.badRequest('Upload-Metadata must name bucketName and objectName');
  let userMetadata: Record<string, unknown> | null = null;
  if (meta.metadata) {
    try {
      userMetadata = JSON.parse(meta.metadata);
    } catch {
      throw tusErrors.badRequest('metadata must be JSON');
    }
  }
  const cacheControl = meta.cacheControl ? (/^\d+$/.test(meta.cacheControl) ? `max-age=${meta.cacheControl}` : meta.cacheControl) : 'no-cache';
  const upload = await uploads.create(req.storage.caller, meta.bucketName, meta.objectName, length,
    { contentType: objectContentType(meta.contentType), cacheControl, userMetadata }, req.headers['x-upsert'] === 'true');
  const location = `${projectBaseUrl(req.headers, publicUrl, req.storage.project.ref)}/storage/v1/upload/resumable/${upload.id}`;
  if (req.headers['content-type'] === OFFSET_STREAM && (declaredLength(req.raw) ?? 1) > 0) {
    const offset = await uploads.patch(req.storage.caller, upload.id, 0, req.raw, declaredLength(req.raw));
    return done(reply, 201, { location, 'upload-offset': String(offset) });
  }
  if (length === 0) await uploads.patch(req.storage.caller, upload.id, 0, req.raw, 0);
  return done(reply, 201, { location });
}
