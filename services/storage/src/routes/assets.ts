// /assets/admin/v1 (the project's owner publishes files) and /assets/v1 (anyone reads them, no apikey).
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BasaltError, errors } from '@basalt/errors';
import { defineRoute, projectBaseUrl } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import { cacheControlFor, etagOf, type AssetRow, type AssetsDomain } from '../domain/assets.js';
import { formatMediaType, storedMediaType } from '../domain/mime.js';
import { notModified } from './http-cache.js';

export interface AssetRouteDeps {
  assets: AssetsDomain;
  registry: ProjectRegistry;
  maxUploadBytes: number;
  publicUrl: string;
}

export const ownerErrors = {
  unauthorized: () => new BasaltError(401, 'unauthorized', "The project's service_role key or a platform token is required"),
  forbidden: () => new BasaltError(403, 'forbidden', "Publishing assets needs the project's service_role key or a platform token"),
  projectNotFound: () => new BasaltError(404, 'project_not_found', 'Project not found'),
};

/** the domain checks files and settings field by field, with its own messages */
const Body = z.record(z.string(), z.unknown()).nullish().transform((b) => b ?? {});

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

const fileJson = (base: string, f: AssetRow) => ({
  path: f.path, url: `${base}/assets/v1/${encodePath(f.path)}`, size: f.size, etag: etagOf(f.sha256),
  content_type: f.content_type, updated_at: f.updated_at,
});

/** The raw path after `prefix`, decoded; null when it does not decode. */
function pathAfter(req: FastifyRequest, prefix: string): string | null {
  const q = req.url.indexOf('?');
  try {
    return decodeURIComponent((q === -1 ? req.url : req.url.slice(0, q)).slice(prefix.length));
  } catch {
    return null;
  }
}

/** Publishing, for the project's owner (requireProjectOwner runs first and sets req.ref). */
export const assetAdminRoutes = ({ assets, maxUploadBytes, publicUrl }: AssetRouteDeps) => {
  const base = (req: FastifyRequest) => projectBaseUrl(req.headers, publicUrl, req.ref);
  return [
    defineRoute({
      method: 'POST', url: '/upload', schema: { body: Body }, bodyLimit: maxUploadBytes,
      handler: async (req) => ({ files: (await assets.upload(req.ref, req.body.files)).map((f) => fileJson(base(req), f)) }),
    }),
    defineRoute({ method: 'GET', url: '/files', handler: async (req) => ({ files: (await assets.list(req.ref)).map((f) => fileJson(base(req), f)) }) }),
    defineRoute({
      method: 'DELETE', url: '/files/*',
      handler: async (req) => {
        const path = pathAfter(req, '/assets/admin/v1/files/');
        if (path === null) throw errors.validation('invalid asset path');
        if (!(await assets.remove(req.ref, path))) throw errors.notFound(`asset ${path}`);
        return { deleted: path };
      },
    }),
    defineRoute({ method: 'GET', url: '/settings', handler: (req) => assets.settings(req.ref) }),
    defineRoute({ method: ['PUT', 'PATCH'], url: '/settings', schema: { body: Body }, handler: (req) => assets.updateSettings(req.ref, req.body) }),
  ];
};

/** The published site: one indexed lookup in the control database, then the bytes streamed. */
export const assetSiteRoutes = ({ assets, registry }: AssetRouteDeps) => {
  const site = defineRoute({
    method: ['GET', 'HEAD'], url: '/assets/v1/*',
    handler: async (req, reply) => {
      const ref = req.headers['x-basalt-ref'];
      const project = typeof ref === 'string' ? await registry.get(ref) : null;
      if (!project) throw ownerErrors.projectNotFound();
      const path = pathAfter(req, '/assets/v1');
      const found = path === null ? null : await assets.resolve(project.ref, path);
      if (!found) throw errors.notFound('file');
      const { row, fallback, settings } = found;
      const etag = etagOf(row.sha256);
      // parsed at serve time like an object's type (a row that does not parse is served as bytes, not guessed at)
      const type = formatMediaType(storedMediaType(row.content_type));
      reply.header('content-type', type);
      reply.header('etag', etag);
      reply.header('last-modified', new Date(row.updated_at).toUTCString());
      reply.header('cache-control', fallback ? settings.html_cache_control : cacheControlFor(row.path, type, settings));
      if (notModified(req.raw, etag, new Date(row.updated_at))) return reply.code(304).send();
      reply.header('content-length', String(row.size));
      if (req.method === 'HEAD') return reply.send();
      return reply.send(await assets.read(project.ref, row));
    },
  });
  return [site, { ...site, url: '/assets/v1' }];
};
