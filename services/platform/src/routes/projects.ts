// /platform/v1/projects: lifecycle, keys, SQL, schema export, custom domains (Supabase Management API shapes).
//   POST   /projects                          create
//   GET    /projects                          list
//   GET    /projects/:ref                     get
//   PATCH  /projects/:ref                     rename, settings
//   DELETE /projects/:ref?confirm=<ref>       delete every trace
//   GET    /projects/:ref/api-keys            anon + service_role keys
//   POST   /projects/:ref/api-keys/rotate     new secret and keys
//   POST   /projects/:ref/sql                 run SQL (alias /database/query)
//   GET    /projects/:ref/schema/export       DDL of the app's schemas
//   GET|POST|DELETE /projects/:ref/custom-domains[/:domain]
import { Router } from 'express';
import { z } from 'zod';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { ProjectsDomain } from '../domain/projects.js';
import { runSql } from '../domain/sql.js';
import { exportSchema } from '../domain/schema-export.js';
import { platformErrors } from '../errors.js';
import { requireProjectAccess } from './auth.js';

const CreateProject = z.object({ name: z.string().trim().min(1).max(256) }).strict();
const UpdateProject = z
  .object({
    name: z.string().trim().min(1).max(256).optional(),
    settings: z
      .object({ rate_limit_rps: z.number().int().min(1).max(1_000_000).optional() })
      .passthrough()
      .optional(),
  })
  .strict();
const Sql = z.object({ query: z.string().min(1).max(1_000_000) });
const Domain = z.object({ domain: z.string().toLowerCase().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'not a domain name') });
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw platformErrors.validation(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), r.error.issues);
  return r.data;
}

export function projectRoutes(projects: ProjectsDomain, registry: ProjectRegistry, sqlTimeoutMs: number): Router {
  const r = Router();
  const project = async (ref: string) => {
    const p = await registry.get(ref);
    if (!p) throw platformErrors.projectNotFound(ref);
    return p;
  };

  r.post('/projects', async (req, res) => {
    if (req.platform.projectRefs !== null) throw platformErrors.forbiddenProject('(new)');
    res.status(201).json(await projects.create(parse(CreateProject, req.body).name));
  });
  r.get('/projects', async (req, res) => void res.json(await projects.list(req.platform.projectRefs)));
  r.use('/projects/:ref', requireProjectAccess);
  r.get('/projects/:ref', async (req, res) => void res.json(await projects.get(req.params.ref)));
  r.patch('/projects/:ref', async (req, res) => void res.json(await projects.update(req.params.ref, parse(UpdateProject, req.body))));
  r.delete('/projects/:ref', async (req, res) => {
    await projects.remove(req.params.ref, req.query.confirm);
    res.json({ ref: req.params.ref, deleted: true });
  });
  r.get('/projects/:ref/api-keys', async (req, res) => void res.json(await projects.apiKeys(req.params.ref)));
  r.post('/projects/:ref/api-keys/rotate', async (req, res) => void res.json(await projects.rotateKeys(req.params.ref)));
  const sql = async (req: { params: { ref: string }; body: unknown }, res: { json: (v: unknown) => void }) =>
    res.json(await runSql(await project(req.params.ref), parse(Sql, req.body).query, sqlTimeoutMs));
  r.post('/projects/:ref/sql', sql);
  r.post('/projects/:ref/database/query', sql);
  r.get('/projects/:ref/schema/export', async (req, res) => {
    const raw = typeof req.query.schemas === 'string' ? req.query.schemas.split(',') : ['public'];
    if (!raw.every((s) => SCHEMA_NAME.test(s))) throw platformErrors.validation('schemas: a comma-separated list of schema names');
    res.type('application/sql').send(await exportSchema(await project(req.params.ref), raw));
  });
  r.get('/projects/:ref/custom-domains', async (req, res) => void res.json(await projects.listDomains(req.params.ref)));
  r.post('/projects/:ref/custom-domains', async (req, res) =>
    void res.status(201).json(await projects.addDomain(req.params.ref, parse(Domain, req.body).domain)),
  );
  r.delete('/projects/:ref/custom-domains/:domain', async (req, res) => {
    await projects.removeDomain(req.params.ref, req.params.domain.toLowerCase());
    res.status(204).end();
  });
  return r;
}
