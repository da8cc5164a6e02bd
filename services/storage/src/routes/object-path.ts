// Object paths are read from the raw request path rather than from router parameters: object names contain
// slashes, and every segment is decoded and checked exactly once (%2F inside a segment stays part of it).
import type { FastifyRequest } from 'fastify';
import { storageErrors } from '../errors.js';

/** The decoded segments the route's trailing `*` matched: `/object/public/*` on `/object/public/b/a%20c` → ['b', 'a c']. */
export function wildcardSegments(req: FastifyRequest): string[] {
  const url = req.url;
  const q = url.indexOf('?');
  // the router matches static segments on the decoded path, where an encoded "/" stays encoded: the raw path has
  // as many segments before the wildcard as the route's pattern
  const skip = req.routeOptions.url!.split('/').length - 1;
  return (q === -1 ? url : url.slice(0, q)).split('/').slice(skip).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw storageErrors.invalidKey(s);
    }
  });
}

/** ['bucket', 'a', 'b.txt'] → bucket 'bucket', name 'a/b.txt' */
export const bucketAndName = (parts: string[]) => ({ bucket: parts[0] ?? '', name: parts.slice(1).join('/') });

/** The bucket and object name after the route's static prefix. */
export const objectAt = (req: FastifyRequest) => bucketAndName(wildcardSegments(req));
