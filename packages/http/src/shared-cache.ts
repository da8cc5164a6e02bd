// What the gateway may keep of a service's answer, and how it hears that it changed. A service marks an answer any
// caller may be given the same (a published asset) with SHARED_CACHE_HEADER; the gateway keeps small ones and drops
// a project's when its ref is published on assetsChangedChannel. Conditional requests are answered alike on both
// sides (notModified).
import type { IncomingMessage } from 'node:http';

/** set by a service on an answer the gateway may keep and give any caller; the gateway never sends it on */
export const SHARED_CACHE_HEADER = 'x-basalt-shared-cache';

/** the Redis channel a project's ref is published on when its published assets or asset settings change */
export const assetsChangedChannel = (redisPrefix: string): string => `${redisPrefix}assets:changed`;

/** True when the client's cached copy (If-None-Match, else If-Modified-Since) is still current. */
export function notModified(req: IncomingMessage, etag: string, lastModified: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string') {
    const bare = etag.replace(/^W\//, '');
    return inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
  }
  const ims = req.headers['if-modified-since'];
  if (typeof ims === 'string') {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
  }
  return false;
}
