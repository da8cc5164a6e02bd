// /assets/admin/v1 (the project's owner publishes files) and /assets/v1 (anyone reads them, no apikey).
import { pipeline } from 'node:stream/promises';
import express, { Router, type Request } from 'express';
import type pg from 'pg';
import { BasaltError, errors } from '@basalt/errors';
import { asyncRoute, projectBaseUrl } from '@basalt/http';
import { requireProjectOwner, type ProjectRegistry } from '@basalt/tenancy';
import { cacheControlFor, etagOf, type AssetRow, type AssetsDomain } from '../domain/assets.js';
import { notModified } from './http-cache.js';

/** The project requireProjectOwner admitted. */
const refOf = (req: Request) => (req as Request & { ref: string }).ref;

const ownerErrors = {
  unauthorized: () => new BasaltError(401, 'unauthorized', "The project's service_role key or a platform token is required"),
  forbidden: () => new BasaltError(403, 'forbidden', "Publishing assets needs the project's service_role key or a platform token"),
  projectNotFound: () => new BasaltError(404, 'project_not_found', 'Project not found'),
};

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

const fileJson = (base: string, f: AssetRow) => ({
  path: f.path, url: `${base}/assets/v1/${encodePath(f.path)}`, size: f.size, etag: etagOf(f.sha256),
  content_type: f.content_type, updated_at: f.updated_at,
});

function decodedPath(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

export function assetRoutes(assets: AssetsDomain, control: pg.Pool, registry: ProjectRegistry, o: { maxUploadBytes: number; publicUrl: string }): Router {
  const r = Router();
  const base = (req: Request) => projectBaseUrl(req.headers, o.publicUrl, refOf(req));

  const admin = Router();
  admin.use(requireProjectOwner(control, registry, ownerErrors));
  admin.post('/upload', express.json({ limit: o.maxUploadBytes }), asyncRoute(async (req, res) => {
    const files = await assets.upload(refOf(req), (req.body ?? {}).files);
    res.json({ files: files.map((f) => fileJson(base(req), f)) });
  }));
  admin.get('/files', asyncRoute(async (req, res) => {
    res.json({ files: (await assets.list(refOf(req))).map((f) => fileJson(base(req), f)) });
  }));
  admin.delete(/^\/files\/.+$/, asyncRoute(async (req, res) => {
    const path = decodedPath(req.path.slice('/files/'.length));
    if (path === null) throw errors.validation('invalid asset path');
    if (!(await assets.remove(refOf(req), path))) throw errors.notFound(`asset ${path}`);
    res.json({ deleted: path });
  }));
  admin.get('/settings', asyncRoute(async (req, res) => void res.json(await assets.settings(refOf(req)))));
  admin.put('/settings', express.json(), asyncRoute(async (req, res) => void res.json(await assets.updateSettings(refOf(req), req.body ?? {}))));
  admin.patch('/settings', express.json(), asyncRoute(async (req, res) => void res.json(await assets.updateSettings(refOf(req), req.body ?? {}))));
  r.use('/assets/admin/v1', admin);

  r.get(/^\/assets\/v1(?:\/.*)?$/, asyncRoute(async (req, res) => {
    const ref = req.headers['x-basalt-ref'];
    const project = typeof ref === 'string' ? await registry.get(ref) : null;
    if (!project) throw ownerErrors.projectNotFound();
    const path = decodedPath(req.path.slice('/assets/v1'.length));
    const found = path === null ? null : await assets.resolve(project.ref, path);
    if (!found) throw errors.notFound('file');
    const { row, fallback, settings } = found;
    const etag = etagOf(row.sha256);
    res.setHeader('content-type', row.content_type);
    res.setHeader('etag', etag);
    res.setHeader('last-modified', new Date(row.updated_at).toUTCString());
    res.setHeader('cache-control', fallback ? settings.html_cache_control : cacheControlFor(row.path, row.content_type, settings));
    res.setHeader('x-content-type-options', 'nosniff');
    if (notModified(req, etag, new Date(row.updated_at))) return void res.status(304).end();
    res.setHeader('content-length', String(row.size));
    if (req.method === 'HEAD') return void res.end();
    await pipeline(await assets.read(project.ref, row), res);
  }));
  return r;
}
