// /assets/admin/v1 (the project's owner publishes files) and /assets/v1 (anyone reads them, no apikey).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BasaltError, errors } from '@basalt/errors';
import { defineRoute, notModified, projectBaseUrl, SHARED_CACHE_HEADER, type FastRoute } from '@basalt/http';
import type { Project, ProjectRegistry } from '@basalt/tenancy';
import { cacheControlFor, etagOf, type AssetRow, type AssetsDomain, type ResolvedAsset } from '../domain/assets.js';
import { formatMediaType, storedMediaType } from '../domain/mime.js';

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
/** The decoded path of a raw request URL below `prefix`, without the query; null when it does not decode. */
function pathAfter(url: string, prefix: string): string | null {
  const q = url.indexOf('?');
  try {
    return decodeURIComponent((q === -1 ? url : url.slice(0, q)).slice(prefix.length));
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
        const path = pathAfter(req.url, '/assets/admin/v1/files/');
        if (path === null) throw errors.validation('invalid asset path');
        if (!(await assets.remove(req.ref, path))) throw errors.notFound(`asset ${path}`);
        return { deleted: path };
      },
    }),
    defineRoute({ method: 'GET', url: '/settings', handler: (req) => assets.settings(req.ref) }),
    defineRoute({ method: ['PUT', 'PATCH'], url: '/settings', schema: { body: Body }, handler: (req) => assets.updateSettings(req.ref, req.body) }),
  ];
};

interface Served {
  type: string;
  etag: string;
  lastModified: Date;
  headers: Record<string, string>;
  /**
   * The same answer as a prepared header list for the fast route (assetFastRoute), in the order the Fastify route
   * sends it: x-request-id (slot 1 is the request's), nosniff (app.ts), the headers above, then
   * content-length, which a 304 leaves off.
   */
  head: string[];
}

/**
 * The response headers of a resolution, worked out once per cached resolution rather than per read: the content
 * type parsed at serve time like an object's (a row that does not parse is served as bytes, not guessed at).
 */
const served = new WeakMap<ResolvedAsset, Served>();
function servedAs(found: ResolvedAsset): Served {
  let s = served.get(found);
  if (s) return s;
  const { row, fallback, settings } = found;
  const type = formatMediaType(storedMediaType(row.content_type));
  const lastModified = new Date(row.updated_at);
  const etag = etagOf(row.sha256);
  const headers = {
    'content-type': type, etag, 'last-modified': lastModified.toUTCString(),
    'cache-control': fallback ? settings.html_cache_control : cacheControlFor(row.path, type, settings),
    // the same answer for anyone who asks: the gateway may keep it until the project's assets change
    [SHARED_CACHE_HEADER]: 'asset',
  };
  s = {
    type, etag, lastModified, headers,
    head: ['x-request-id', '', 'x-content-type-options', 'nosniff', ...Object.entries(headers).flat(), 'content-length', String(row.size)],
  };
  served.set(found, s);
  return s;
}

const isPromise = <T>(v: T): v is Extract<T, Promise<unknown>> => v instanceof Promise;

/**
 * The published site: the path resolved (cached per replica; one indexed lookup on a miss), then the bytes (a
 * small file's from memory). A cached read stays synchronous, with no promise per request.
 */
export const assetSiteRoutes = ({ assets, registry }: AssetRouteDeps) => {
  // Each step answers with the reply (a thenable that settles when the response is done), so a promise that
  // resolves to it holds Fastify until the bytes are out, a streamed file's included.
  function respond(req: FastifyRequest, reply: FastifyReply, ref: string, found: ResolvedAsset | null): FastifyReply | Promise<FastifyReply> {
    if (!found) throw errors.notFound('file');
    const s = servedAs(found);
    reply.headers(s.headers);
    if (notModified(req.raw, s.etag, s.lastModified)) return reply.code(304).send();
    reply.header('content-length', String(found.row.size));
    if (req.method === 'HEAD') return reply.send();
    const bytes = assets.read(ref, found.row);
    return isPromise(bytes) ? bytes.then((b) => reply.send(b)) : reply.send(bytes);
  }
  function serve(req: FastifyRequest, reply: FastifyReply, project: Project | null): FastifyReply | Promise<FastifyReply> {
    if (!project) throw ownerErrors.projectNotFound();
    const path = pathAfter(req.url, '/assets/v1');
    const found = path === null ? null : assets.resolve(project.ref, path);
    return isPromise(found) ? found.then((f) => respond(req, reply, project.ref, f)) : respond(req, reply, project.ref, found);
  }
  const site = defineRoute({
    method: ['GET', 'HEAD'], url: '/assets/v1/*',
    handler: (req, reply) => {
      const ref = req.headers['x-basalt-ref'];
      if (typeof ref !== 'string') throw ownerErrors.projectNotFound();
      const project = registry.peek(ref);
      if (project === undefined) return registry.get(ref).then((p) => serve(req, reply, p));
      // a cached read was answered synchronously (the reply is returned only while something is still pending)
      const pending = serve(req, reply, project);
      return isPromise(pending) ? pending : undefined;
    },
  });
  return [site, { ...site, url: '/assets/v1' }];
};

const SITE = '/assets/v1/';
/** the longest raw path the Fastify route takes (its wildcard's maxParamLength, createService) */
const MAX_URL = SITE.length + 2048;

/**
 * A read of the published site answered from the caches before Fastify (createService's fastRoute): the project,
 * the path's resolution and, for a GET, the file's bytes all in memory. Then the answer is one writeHead with the
 * resolution's prepared headers and one end with the bytes, the same answer (status, headers, 304s, HEAD) the
 * route above gives. Anything else (a miss of any cache, nothing at the path, an unknown project, a URL that does
 * not decode, the bare /assets/v1) is declined and goes to that route.
 */
export const assetFastRoute = ({ assets, registry }: Pick<AssetRouteDeps, 'assets' | 'registry'>): FastRoute => ({
  prefix: SITE,
  group: '/assets/v1/*',
  answer: (req, res, id) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const ref = req.headers['x-basalt-ref'];
    if (typeof ref !== 'string') return false;
    const project = registry.peek(ref);
    const url = req.url!;
    if (!project || url.length > MAX_URL) return false;
    const path = pathAfter(url, '/assets/v1');
    if (path === null) return false;
    const found = assets.cachedResolve(project.ref, path);
    if (!found) return false;
    const s = servedAs(found);
    const head = s.head.slice();
    head[1] = id;
    if (notModified(req, s.etag, s.lastModified)) {
      head.length -= 2;
      res.writeHead(304, head);
      res.end();
      return true;
    }
    if (method === 'HEAD') {
      res.writeHead(200, head);
      res.end();
      return true;
    }
    const bytes = assets.cachedRead(project.ref, found.row);
    if (!bytes) return false;
    res.writeHead(200, head);
    res.end(bytes);
    return true;
  },
});
