// /storage/v1/upload/resumable: TUS 1.0.0 (creation, creation-with-upload, termination) for tus-js-client and
// Uppy, with Supabase's Upload-Metadata keys: bucketName, objectName, contentType, cacheControl, metadata.
import { Router, type Request, type Response } from 'express';
import { asyncRoute, projectBaseUrl } from '@basalt/http';
import type { Project, ProjectRegistry } from '@basalt/tenancy';
import { callerOf, projectOf } from '../domain/caller.js';
import { tusErrors, type ResumableDomain } from '../domain/resumable.js';
import { declaredLength } from './upload-body.js';

const TUS = { 'tus-resumable': '1.0.0' };
const OFFSET_STREAM = 'application/offset+octet-stream';

/** `key base64,key base64,…` */
function parseMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (header ?? '').split(',')) {
    const [k, v] = pair.trim().split(' ');
    if (k) out[k] = v ? Buffer.from(v, 'base64').toString('utf8') : '';
  }
  return out;
}

const intHeader = (req: Request, name: string): number | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
};

export function resumableRoutes(registry: ProjectRegistry, resumable: (p: Project) => ResumableDomain, o: { maxFileSize: number; publicUrl: string }): Router {
  const r = Router();
  const context = async (req: Request) => {
    const project = await projectOf(req.headers, registry);
    return { project, who: callerOf(project, req.headers), uploads: resumable(project) };
  };
  const done = (res: Response, status: number, headers: Record<string, string> = {}) => void res.status(status).set({ ...TUS, ...headers }).end();

  r.options(['/upload/resumable', '/upload/resumable/:id'], (_req, res) =>
    done(res, 204, { 'tus-version': '1.0.0', 'tus-extension': 'creation,creation-with-upload,termination', 'tus-max-size': String(o.maxFileSize) }));

  r.post('/upload/resumable', asyncRoute(async (req, res) => {
    const { project, who, uploads } = await context(req);
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
    const upload = await uploads.create(who, meta.bucketName, meta.objectName, length,
      { contentType: meta.contentType || 'application/octet-stream', cacheControl, userMetadata }, req.headers['x-upsert'] === 'true');
    const location = `${projectBaseUrl(req.headers, o.publicUrl, project.ref)}/storage/v1/upload/resumable/${upload.id}`;
    // creation-with-upload: the first bytes may come with the POST
    if (req.headers['content-type'] === OFFSET_STREAM && (declaredLength(req) ?? 1) > 0) {
      const offset = await uploads.patch(who, upload.id, 0, req, declaredLength(req));
      return done(res, 201, { location, 'upload-offset': String(offset) });
    }
    if (length === 0) await uploads.patch(who, upload.id, 0, req, 0);
    done(res, 201, { location });
  }));

  r.head('/upload/resumable/:id', asyncRoute(async (req, res) => {
    const { who, uploads } = await context(req);
    const row = await uploads.load(who, req.params.id as string);
    done(res, 200, { 'upload-offset': String(row.upload_offset), 'upload-length': String(row.upload_length), 'cache-control': 'no-store' });
  }));

  r.patch('/upload/resumable/:id', asyncRoute(async (req, res) => {
    const { who, uploads } = await context(req);
    if (req.headers['content-type'] !== OFFSET_STREAM) return done(res, 415);
    const offset = intHeader(req, 'upload-offset');
    if (offset === undefined) throw tusErrors.badRequest('Upload-Offset is required');
    const next = await uploads.patch(who, req.params.id as string, offset, req, declaredLength(req));
    done(res, 204, { 'upload-offset': String(next) });
  }));

  r.delete('/upload/resumable/:id', asyncRoute(async (req, res) => {
    const { who, uploads } = await context(req);
    await uploads.remove(who, req.params.id as string);
    done(res, 204);
  }));
  return r;
}
