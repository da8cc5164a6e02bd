// createApp(deps): the storage service's Fastify app without listen, so tests can drive it directly: the Storage
// API under /storage/v1 (Storage's error shape), static assets under /assets (Basalt's).
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { FastifyRequest } from 'fastify';
import type { ProjectPools } from '@basalt/db';
import type { SecretBox } from '@basalt/crypto';
import type { BasaltError } from '@basalt/errors';
import { createService, errorShapes, registerRoutes, type Logger } from '@basalt/http';
import { authorizeProjectOwner, capped, pingControlPlane, type Project, type ProjectRegistry } from '@basalt/tenancy';
import type { Backend } from './backend/index.js';
import type { Config } from './config.js';
import { s3KeysDb } from './db/s3-keys.js';
import { projectRead, projectTx } from './db/tx.js';
import type { AssetCaches } from './domain/asset-caches.js';
import { assetsDomain } from './domain/assets.js';
import { bucketDomain } from './domain/buckets.js';
import { objectDomain } from './domain/objects.js';
import { renderer } from './domain/render.js';
import { resumableDomain } from './domain/resumable.js';
import { s3Domain } from './domain/s3.js';
import { s3KeysDomain } from './domain/s3-keys.js';
import { vectorDomain } from './domain/vectors.js';
import { assetAdminRoutes, assetFastRoute, assetSiteRoutes, ownerErrors } from './routes/assets.js';
import { cdnRoutes } from './routes/cdn.js';
import { s3Api } from './routes/s3.js';
import { s3KeyRoutes } from './routes/s3-keys.js';
import { storageApi } from './routes/storage-api.js';

export interface Deps {
  config: Config;
  control: pg.Pool;
  redis: Redis;
  registry: ProjectRegistry;
  pools: ProjectPools;
  backend: Backend;
  log: Logger;
  /** seals S3 access key secrets (BASALT_MASTER_KEY) */
  secrets: SecretBox;
  /** resolved asset paths (listening for other replicas' changes) and small asset blobs: assetCaches() */
  assetCaches: AssetCaches;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the project the owner check admitted (assets admin) */
    ref: string;
  }
}

/** Every storage and assets response, files, 304s and errors alike, is read as exactly the type it declares. */
const NOSNIFF = /^\/(?:storage\/v1|assets|cdn)(?:[/?]|$)/;
const NOSNIFF_HEADERS = { 'x-content-type-options': 'nosniff' };

/** Each project's domain objects are built once per Project (the registry replaces the object when it changes). */
function perProject<T>(make: (project: Project) => T): (project: Project) => T {
  const made = new WeakMap<Project, T>();
  return (project) => {
    let hit = made.get(project);
    if (hit === undefined) made.set(project, (hit = make(project)));
    return hit;
  };
}

export function createApp(deps: Deps) {
  const c = deps.config;
  const service = createService({
    name: 'storage',
    log: deps.log,
    errorShape: (e: BasaltError, req: FastifyRequest) => (req.url.startsWith('/storage/') ? errorShapes.storage(e) : errorShapes.basalt(e)),
    ready: () => pingControlPlane(deps.control, deps.redis),
    headersFor: (url) => (NOSNIFF.test(url) ? NOSNIFF_HEADERS : null),
  });
  const { app } = service;

  const objects = perProject((project) =>
    objectDomain({ tx: projectTx(deps.pools, project), read: projectRead(deps.pools, project), project, backend: deps.backend, maxFileSize: c.STORAGE_MAX_FILE_SIZE }));
  const buckets = perProject((project) => bucketDomain(projectTx(deps.pools, project), c.STORAGE_MAX_FILE_SIZE));
  const resumable = perProject((project) =>
    resumableDomain({ tx: projectTx(deps.pools, project), project, backend: deps.backend, objects: objects(project) }));
  const vectors = perProject((project) =>
    vectorDomain({ tx: projectTx(deps.pools, project), maxBuckets: c.STORAGE_VECTOR_MAX_BUCKETS, maxIndexes: c.STORAGE_VECTOR_MAX_INDEXES }));
  app.register(storageApi({
    registry: deps.registry, objects, buckets, resumable, vectors, render: renderer(deps.backend),
    signedUploadExpires: c.STORAGE_SIGNED_UPLOAD_EXPIRES, maxFileSize: c.STORAGE_MAX_FILE_SIZE, publicUrl: c.BASALT_PUBLIC_URL,
  }), { prefix: '/storage/v1' });

  const keys = s3KeysDomain(s3KeysDb(deps.control), deps.secrets);
  const s3 = perProject((project) =>
    s3Domain({
      tx: projectTx(deps.pools, project), project, backend: deps.backend, objects: objects(project),
      maxFileSize: capped(c.STORAGE_MAX_FILE_SIZE, project.quotas.max_object_bytes), // the plan's quota, as objects apply it
    }));
  app.register(s3Api({ registry: deps.registry, keys, objects, buckets, s3, region: c.STORAGE_S3_PROTOCOL_REGION }), { prefix: '/storage/v1/s3' });
  app.register(async (manage) => {
    manage.addHook('onRequest', async (req) => {
      // a service_role key of another project carries its own ref: authenticate() refuses it against this one
      req.ref = (await authorizeProjectOwner(deps.control, deps.registry, ownerErrors, req.headers, (req.params as { ref?: string }).ref)).ref;
    });
    registerRoutes(manage, s3KeyRoutes(keys));
  }, { prefix: '/platform/v1/projects/:ref/storage' });

  const assets = { assets: assetsDomain(deps.control, deps.backend, deps.assetCaches), registry: deps.registry, maxUploadBytes: c.ASSETS_MAX_UPLOAD_BYTES, publicUrl: c.BASALT_PUBLIC_URL };
  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => {
      req.ref = (await authorizeProjectOwner(deps.control, deps.registry, ownerErrors, req.headers)).ref;
    });
    registerRoutes(admin, assetAdminRoutes(assets));
  }, { prefix: '/assets/admin/v1' });
  registerRoutes(app, assetSiteRoutes(assets));
  // a cached site read is answered before Fastify; every other one goes to the route above
  service.fastRoute(assetFastRoute(assets));
  registerRoutes(app, cdnRoutes({ registry: deps.registry, objects, cdnMaxTokenSeconds: c.STORAGE_CDN_MAX_TOKEN_SECONDS }));
  return service;
}
