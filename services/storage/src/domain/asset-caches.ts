// The two caches behind public asset reads, built from the service's configuration: resolved paths (dropped on
// every change, across replicas) and the bytes of small files (immutable, so never dropped).
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { AssetPaths } from './asset-paths.js';
import type { ResolvedAsset } from './assets.js';
import { BlobCache } from './blob-cache.js';

export interface AssetCaches {
  paths: AssetPaths<ResolvedAsset | null>;
  blobs: BlobCache;
}

/** `publisher` tells other replicas of a change; call `paths.listen(subscriber)` to hear theirs. */
export function assetCaches(c: Config, publisher: Redis): AssetCaches {
  return {
    paths: new AssetPaths(publisher, c.BASALT_REDIS_PREFIX, { ttlMs: c.ASSETS_PATH_CACHE_TTL_MS, maxEntries: c.ASSETS_PATH_CACHE_ENTRIES }),
    blobs: new BlobCache({ maxBytes: c.ASSETS_BLOB_CACHE_BYTES, maxFileBytes: c.ASSETS_BLOB_CACHE_MAX_FILE_BYTES }),
  };
}
