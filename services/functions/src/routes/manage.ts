// Platform-API paths the gateway delegates here (platform token with access to the project):
//   POST   /platform/v1/projects/:ref/functions                  deploy {slug, source | files+entrypoint, verify_jwt, import_map, allow_service_role, timeout_ms}
//   GET    /platform/v1/projects/:ref/functions                  list with versions
//   GET    /platform/v1/projects/:ref/functions/:slug            one
//   DELETE /platform/v1/projects/:ref/functions/:slug
//   POST   /platform/v1/projects/:ref/functions/:slug/rollback   {version}
//   GET    /platform/v1/projects/:ref/functions/:slug/logs       invocations, newest first
//   POST|GET|DELETE /platform/v1/projects/:ref/secrets           [{name, value}] | names only | [names]
import express, { Router, type RequestHandler } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { canAccessProject, requestToken, verifyPlatformToken, type ProjectRegistry } from '@basalt/tenancy';
import { Deploy, parse, SetSecrets, UnsetSecrets, type ManageDomain } from '../domain/manage.js';
import { fnErrors } from '../errors.js';

function requirePlatformToken(control: pg.Pool, registry: ProjectRegistry): RequestHandler {
  return async (req, _res, next) => {
    const principal = await verifyPlatformToken(control, requestToken(req.headers));
    if (!principal) return next(fnErrors.unauthorized());
    if (!canAccessProject(principal, refOf(req))) return next(fnErrors.forbidden());
    if (!(await registry.get(refOf(req)))) return next(fnErrors.projectNotFound());
    next();
  };
}

/** The project ref from the mount path (mergeParams); Express's types do not carry parent params. */
const refOf = (req: { params: unknown }) => String((req.params as Record<string, string>).ref);

export function manageRoutes(manage: ManageDomain, control: pg.Pool, registry: ProjectRegistry): Router {
  const r = Router({ mergeParams: true });
  r.use(express.json({ limit: '25mb' }), requirePlatformToken(control, registry));
  r.post('/functions', async (req, res) => void res.status(201).json(await manage.deploy(refOf(req), parse(Deploy, req.body))));
  r.get('/functions', async (req, res) => void res.json(await manage.list(refOf(req))));
  r.get('/functions/:slug', async (req, res) => void res.json(await manage.get(refOf(req), req.params.slug)));
  r.delete('/functions/:slug', async (req, res) => {
    await manage.remove(refOf(req), req.params.slug);
    res.json({ slug: req.params.slug, deleted: true });
  });
  r.post('/functions/:slug/rollback', async (req, res) => {
    const { version } = parse(z.object({ version: z.number().int().min(1) }).strict(), req.body);
    res.json(await manage.rollback(refOf(req), req.params.slug, version));
  });
  r.get('/functions/:slug/logs', async (req, res) => void res.json(await manage.logs(refOf(req), req.params.slug, Number(req.query.limit ?? 100) || 100)));
  r.post('/secrets', async (req, res) => {
    await manage.setSecrets(refOf(req), parse(SetSecrets, req.body));
    res.status(201).json(await manage.listSecrets(refOf(req)));
  });
  r.get('/secrets', async (req, res) => void res.json(await manage.listSecrets(refOf(req))));
  r.delete('/secrets', async (req, res) => {
    await manage.unsetSecrets(refOf(req), parse(UnsetSecrets, req.body));
    res.json(await manage.listSecrets(refOf(req)));
  });
  return r;
}
