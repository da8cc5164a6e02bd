// /functions/v1/:slug[/*] — any method; the project comes from the gateway's x-basalt-ref, the caller's JWT is
// checked here when the function has verify_jwt (the gateway requires no key on this route).
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { projectBaseUrl } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { invoker } from '../domain/invoke.js';
import { fnErrors } from '../errors.js';

export function invokeRoutes(invoke: ReturnType<typeof invoker>, registry: ProjectRegistry, publicUrl: string): Router {
  const r = Router();
  r.all(/^\/functions\/v1\/([A-Za-z0-9_-]{1,128})(\/.*)?$/, async (req, res) => {
    const ref = req.headers['x-basalt-ref'];
    const project = typeof ref === 'string' ? await registry.get(ref) : null;
    if (!project) throw fnErrors.projectNotFound();
    const params = req.params as unknown as string[];
    const slug = params[0];
    const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const base = projectBaseUrl(req.headers, publicUrl, project.ref);
    const out = await invoke(project, slug, `${params[1] ?? ''}${search}`, req, base);
    res.status(out.status);
    for (const [k, v] of out.headers) res.append(k, v);
    if (!out.body) return void res.end();
    await pipeline(out.body, res).catch(() => res.destroy());
  });
  return r;
}
