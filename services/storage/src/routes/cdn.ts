// The CDN host: cdn.<BASALT_DOMAIN>/<ref>/<bucket>/<path> (the gateway hands it over as /cdn/<ref>/<bucket>/<path>,
// the path-prefix form where wildcard DNS is not available) serves any project's files from one host. The
// project's reserved public bucket (CDN_BUCKET, when it exists and is public) needs no token and is cached for
// long (revalidated by ETag/Last-Modified); every other object only with a short-lived signed download token
// (?token= as createSignedUrl mints, lifetime at most cdnMaxTokenSeconds) per read, never cached by shared caches.
import { z } from 'zod';
import { BasaltError } from '@basalt/errors';
import { defineRoute } from '@basalt/http';
import type { Project, ProjectRegistry } from '@basalt/tenancy';
import { SERVICE } from '../db/tx.js';
import type { ObjectDomain } from '../domain/objects.js';
import { verifySigned } from '../domain/signing.js';
import { storageErrors } from '../errors.js';
import { bucketAndName, wildcardSegments } from './object-path.js';
import { sendObject } from './send-object.js';

/** the bucket whose objects the CDN host serves without a token */
export const CDN_BUCKET = 'cdn';
const PUBLIC_CACHE = 'public, max-age=31536000, stale-while-revalidate=86400';
const PRIVATE_CACHE = 'private, no-cache';

export interface CdnRouteDeps {
  registry: ProjectRegistry;
  objects: (project: Project) => ObjectDomain;
  cdnMaxTokenSeconds: number;
}

const Params = z.object({ ref: z.string() });
const Query = z.object({ token: z.string().optional(), download: z.string().optional() }).passthrough();

export const cdnRoutes = ({ registry, objects, cdnMaxTokenSeconds }: CdnRouteDeps) => [
  defineRoute({
    method: ['GET', 'HEAD'], url: '/cdn/:ref/*', schema: { params: Params, querystring: Query },
    handler: async (req, reply) => {
      const { ref } = req.params;
      // the project is the path's: a gateway that named another one is not followed
      const named = req.headers['x-basalt-ref'];
      const project = /^[a-z]{20}$/.test(ref) && (named === undefined || named === ref) ? await registry.get(ref) : null;
      if (!project) throw new BasaltError(404, 'project_not_found', 'Project not found');
      const { bucket, name } = bucketAndName(wildcardSegments(req));
      const o = objects(project);
      if (bucket === CDN_BUCKET && req.query.token === undefined) {
        return sendObject(req, reply, o, await o.find(SERVICE, bucket, name, { publicOnly: true }), { cacheControl: PUBLIC_CACHE });
      }
      const claims = verifySigned(project, req.query.token, bucket, name, 'download');
      if (claims.exp - claims.iat > cdnMaxTokenSeconds) throw storageErrors.invalidSignature(`CDN tokens live at most ${cdnMaxTokenSeconds} seconds`);
      return sendObject(req, reply, o, await o.find(SERVICE, bucket, name), { cacheControl: PRIVATE_CACHE });
    },
  }),
];
