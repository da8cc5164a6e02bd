// createApp(deps): the storage service's Express app without listen, so tests can drive it directly.
import type { ErrorRequestHandler, Request } from 'express';
import { Router } from 'express';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { ProjectPools } from '@basalt/db';
import { BasaltError } from '@basalt/errors';
import { createServiceApp, errorShapes, type Logger } from '@basalt/http';
import { pingControlPlane, type Project, type ProjectRegistry } from '@basalt/tenancy';
import type { Backend } from './backend/index.js';
import type { Config } from './config.js';
import { projectTx } from './db/tx.js';
import { assetsDomain } from './domain/assets.js';
import { bucketDomain } from './domain/buckets.js';
import { objectDomain } from './domain/objects.js';
import { renderer } from './domain/render.js';
import { resumableDomain } from './domain/resumable.js';
import { fromStorageDbError, storageErrors } from './errors.js';
import { assetRoutes } from './routes/assets.js';
import { bucketRoutes } from './routes/buckets.js';
import { objectRoutes } from './routes/objects.js';
import { resumableRoutes } from './routes/resumable.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  pools: ProjectPools;
  backend: Backend;
  log: Logger;
}

/** Anything thrown under /storage/v1 becomes a Storage error (body-parser failures, Postgres errors). */
const storageErrorsOnly: ErrorRequestHandler = (err, req, res, next) => {
  // A refused upload's unread body is not drained (it may be gigabytes): the connection closes after the answer.
  if (!req.readableEnded && !res.headersSent) res.setHeader('connection', 'close');
  const e = err as { status?: number; expose?: boolean; message?: string };
  if (!(err instanceof BasaltError) && typeof e?.status === 'number' && e.status < 500 && e.expose) {
    return next(e.status === 413 ? storageErrors.tooLarge() : storageErrors.invalidRequest(e.message ?? 'Invalid request'));
  }
  next(fromStorageDbError(err));
};

export function createApp(deps: Deps) {
  const c = deps.config;
  const service = createServiceApp({
    name: 'storage',
    log: deps.log,
    errorShape: (e: BasaltError, req: Request) => (req.path.startsWith('/storage/') ? errorShapes.storage(e) : errorShapes.basalt(e)),
    ready: () => pingControlPlane(deps.control, deps.redis),
  });
  // Each project's domain objects are built once per Project (the registry replaces the object when the project
  // changes), not on every request.
  const perProject = <T>(make: (project: Project) => T) => {
    const made = new WeakMap<Project, T>();
    return (project: Project): T => {
      let hit = made.get(project);
      if (hit === undefined) made.set(project, (hit = make(project)));
      return hit;
    };
  };
  const objects = perProject((project) =>
    objectDomain({ tx: projectTx(deps.pools, project), project, backend: deps.backend, maxFileSize: c.STORAGE_MAX_FILE_SIZE }));
  const buckets = perProject((project) => bucketDomain(projectTx(deps.pools, project)));
  const resumable = perProject((project) =>
    resumableDomain({ tx: projectTx(deps.pools, project), project, backend: deps.backend, objects: objects(project) }));

  const storage = Router();
  storage.use(bucketRoutes({ registry: deps.registry, buckets, objects }));
  storage.use(objectRoutes({ registry: deps.registry, objects, signedUploadExpires: c.STORAGE_SIGNED_UPLOAD_EXPIRES, render: renderer(deps.backend) }));
  storage.use(resumableRoutes(deps.registry, resumable, { maxFileSize: c.STORAGE_MAX_FILE_SIZE, publicUrl: c.BASALT_PUBLIC_URL }));
  storage.use(storageErrorsOnly);
  service.app.use('/storage/v1', storage);
  service.app.use(assetRoutes(assetsDomain(deps.control, deps.backend), deps.control, deps.registry, { maxUploadBytes: c.ASSETS_MAX_UPLOAD_BYTES, publicUrl: c.BASALT_PUBLIC_URL }));
  return { ...service, app: service.finish() };
}
