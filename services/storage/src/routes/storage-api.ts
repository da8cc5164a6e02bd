// /storage/v1 as one plugin: the project hook and Storage's error shape for every route, then four groups by
// what a route needs: a caller or not, and a JSON body or an upload streamed from req.raw.
import type { IncomingMessage } from 'node:http';
import { closeAfterAnswer, registerRoutes, type App } from '@basalt/http';
import type { Project, ProjectRegistry } from '@basalt/tenancy';
import type { bucketDomain } from '../domain/buckets.js';
import type { ObjectDomain } from '../domain/objects.js';
import type { renderer } from '../domain/render.js';
import type { ResumableDomain } from '../domain/resumable.js';
import type { VectorDomain } from '../domain/vectors.js';
import { toStorageError, vectorErrors } from '../errors.js';
import { bucketRoutes } from './buckets.js';
import { requireCaller, resolveProject } from './context.js';
import { callerObjectRoutes, publicObjectRoutes, signedUploadRoutes, uploadRoutes } from './objects.js';
import { callerRenderRoutes, publicRenderRoutes } from './render.js';
import { resumableRoutes, tusOptionsRoutes } from './resumable.js';
import { vectorRoutes } from './vectors.js';

export interface StorageApiDeps {
  registry: ProjectRegistry;
  objects: (project: Project) => ObjectDomain;
  buckets: (project: Project) => ReturnType<typeof bucketDomain>;
  resumable: (project: Project) => ResumableDomain;
  vectors: (project: Project) => VectorDomain;
  render: ReturnType<typeof renderer>;
  signedUploadExpires: number;
  maxFileSize: number;
  publicUrl: string;
}

/** Reads and drops the rest of a JSON body past the limit: at most 16 MB or 10 s, after which the connection is cut. */
function readOff(body: IncomingMessage): Promise<void> {
  if (body.readableEnded || body.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let left = 16 * 1024 * 1024;
    const cut = () => (body.destroy(), resolve());
    const timer = setTimeout(cut, 10_000);
    body.on('data', (c: Buffer) => void ((left -= c.length) < 0 && cut()));
    body.once('close', () => (clearTimeout(timer), resolve())).once('end', () => (clearTimeout(timer), resolve())).once('error', () => resolve());
    body.resume();
  });
}

/** Upload bodies are the handler's to stream, whatever their type: no parser may read them first. */
function streamedBodies(api: App): void {
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', (_req, _payload, done) => done(null));
}

export const storageApi = (deps: StorageApiDeps) => async (api: App) => {
  api.decorateRequest('storage', null as never);
  api.setErrorHandler(async (err, req, reply) => {
    if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // an oversized JSON body is read off (bounded) before the answer, as the skeleton does for its own 413s
      reply.removeHeader('connection');
      await readOff(req.raw);
    } else if (!req.raw.complete) {
      // A refused upload's unread body is not drained (it may be gigabytes): the connection closes after the answer,
      // lingering so the answer is not lost to a reset
      closeAfterAnswer(reply);
    }
    throw toStorageError(err, req.storage?.project); // rendered by the service's error handler, in Storage's shape
  });
  api.addHook('onRequest', resolveProject(deps.registry));

  api.register(async (open) => {
    registerRoutes(open, [...publicObjectRoutes(deps), ...publicRenderRoutes(deps), ...tusOptionsRoutes(deps)]);
  });
  api.register(async (signed) => {
    streamedBodies(signed);
    registerRoutes(signed, signedUploadRoutes(deps));
  });
  api.register(async (caller) => {
    caller.addHook('onRequest', requireCaller);
    // JSON as everywhere; a body of any other type is not read (storage-js sends JSON or nothing here)
    caller.addContentTypeParser('*', (_req, _payload, done) => done(null));
    registerRoutes(caller, [...bucketRoutes(deps), ...callerObjectRoutes(deps), ...callerRenderRoutes(deps)]);
  });
  api.register(async (vector) => {
    vector.addHook('onRequest', requireCaller);
    vector.addHook('onRequest', async (req) => {
      if (req.storage.caller.role !== 'service_role') throw vectorErrors.serviceRoleOnly();
    });
    registerRoutes(vector, vectorRoutes(deps));
  }, { prefix: '/vector' });
  api.register(async (uploads) => {
    uploads.addHook('onRequest', requireCaller);
    streamedBodies(uploads);
    registerRoutes(uploads, [...uploadRoutes(deps), ...resumableRoutes(deps)]);
  });
};
