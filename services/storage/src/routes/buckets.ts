// /storage/v1/bucket: bucket CRUD as storage-js calls it, run as the caller.
import express, { Router } from 'express';
import { asyncRoute } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import { callerOf, projectOf } from '../domain/caller.js';
import { bucketJson, type bucketDomain } from '../domain/buckets.js';
import type { Project } from '@basalt/tenancy';
import type { ObjectDomain } from '../domain/objects.js';

export interface BucketRouteDeps {
  registry: ProjectRegistry;
  buckets: (project: Project) => ReturnType<typeof bucketDomain>;
  objects: (project: Project) => ObjectDomain;
}

export function bucketRoutes(deps: BucketRouteDeps): Router {
  const r = Router();
  r.use('/bucket', express.json({ limit: '1mb' }));
  const context = async (req: express.Request) => {
    const project = await projectOf(req.headers, deps.registry);
    return { project, who: callerOf(project, req.headers), buckets: deps.buckets(project) };
  };

  r.get('/bucket', asyncRoute(async (req, res) => {
    const { who, buckets } = await context(req);
    res.json((await buckets.list(who, req.query as Record<string, unknown>)).map(bucketJson));
  }));
  r.get('/bucket/:id', asyncRoute(async (req, res) => {
    const { who, buckets } = await context(req);
    res.json(bucketJson(await buckets.get(who, req.params.id as string)));
  }));
  r.post('/bucket', asyncRoute(async (req, res) => {
    const { who, buckets } = await context(req);
    res.json(await buckets.create(who, req.body ?? {}));
  }));
  r.put('/bucket/:id', asyncRoute(async (req, res) => {
    const { who, buckets } = await context(req);
    await buckets.update(who, req.params.id as string, req.body ?? {});
    res.json({ message: 'Successfully updated' });
  }));
  r.post('/bucket/:id/empty', asyncRoute(async (req, res) => {
    const { project, who, buckets } = await context(req);
    const versions = await buckets.empty(who, req.params.id as string);
    await deps.objects(project).dropVersions(versions);
    res.json({ message: 'Successfully emptied' });
  }));
  r.delete('/bucket/:id', asyncRoute(async (req, res) => {
    const { who, buckets } = await context(req);
    await buckets.remove(who, req.params.id as string);
    res.json({ message: 'Successfully deleted' });
  }));
  return r;
}
