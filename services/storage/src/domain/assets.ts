// Static site hosting: files are content-addressed blobs (<ref>/a/<sha256>) with a path → blob table in the
// control database, so a deploy swaps paths atomically, identical files are stored once, and a public read is
// one indexed lookup with no per-project connection. Hot reads skip even that: resolved paths and small blobs
// are cached in-process (asset-paths.ts, blob-cache.ts), and every change here drops the project's paths.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import mime from 'mime-types';
import type pg from 'pg';
import { withTransaction } from '@basalt/db';
import { errors } from '@basalt/errors';
import { assetKey, type Backend } from '../backend/index.js';
import { isValidObjectName } from '../keys.js';
import type { AssetCaches } from './asset-caches.js';
import { etagOf } from './etag.js';

export { etagOf };

export interface AssetRow {
  path: string;
  sha256: string;
  size: number;
  content_type: string;
  updated_at: Date;
}

export interface AssetSettings {
  cache_control: string;
  html_cache_control: string;
  spa_fallback: boolean;
}

export interface ResolvedAsset {
  row: AssetRow;
  /** served as the SPA fallback for a path with no file of its own */
  fallback: boolean;
  settings: AssetSettings;
}

export const DEFAULT_SETTINGS: AssetSettings = {
  cache_control: 'public, max-age=3600',
  html_cache_control: 'public, max-age=0, must-revalidate',
  spa_fallback: false,
};
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** `assets/index-BpVz8P3a.js`, `main.4f3a9c2b.css`: a name part of 8+ characters with a digit, before the extension. */
const HASHED = /[.-](?=[A-Za-z0-9_]*\d)[A-Za-z0-9_]{8,}\.[A-Za-z0-9]+$/;
export const isContentHashed = (path: string) => HASHED.test(path);

export const contentTypeOf = (path: string) => {
  const t = mime.lookup(path) || 'application/octet-stream';
  return /^text\/|javascript|json|xml|svg/.test(t) && !t.includes('charset') ? `${t}; charset=utf-8` : t;
};

export function cacheControlFor(path: string, contentType: string, s: AssetSettings): string {
  if (contentType.startsWith('text/html')) return s.html_cache_control;
  return isContentHashed(path) ? IMMUTABLE : s.cache_control;
}

/** A leading slash is tolerated; everything else follows the object-name rules (no `..`, no control characters). */
export function assetPath(p: unknown): string {
  const path = typeof p === 'string' ? p.replace(/^\/+/, '') : '';
  if (!isValidObjectName(path)) throw errors.validation(`invalid asset path: ${JSON.stringify(String(p)).slice(0, 200)}`);
  return path;
}

interface UploadFile {
  path: string;
  body: Buffer;
}

function decodeFiles(input: unknown): UploadFile[] {
  if (!Array.isArray(input) || input.length === 0) throw errors.validation('files must be a non-empty list of {path, content, encoding}');
  const seen = new Set<string>();
  return input.map((f, i) => {
    if (!f || typeof f !== 'object') throw errors.validation(`files[${i}] must be an object`);
    const { path: p, content, encoding = 'utf8' } = f as Record<string, unknown>;
    const path = assetPath(p);
    if (seen.has(path)) throw errors.validation(`files[${i}]: ${path} is listed twice`);
    seen.add(path);
    if (typeof content !== 'string') throw errors.validation(`files[${i}].content must be a string`);
    if (encoding !== 'utf8' && encoding !== 'base64') throw errors.validation(`files[${i}].encoding must be "utf8" or "base64"`);
    if (encoding === 'base64' && !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(content)) throw errors.validation(`files[${i}].content is not valid base64`);
    return { path, body: Buffer.from(content, encoding) };
  });
}

const readAll = async (stream: Readable): Promise<Buffer> => Buffer.concat(await stream.toArray() as Buffer[]);

export function assetsDomain(control: pg.Pool, backend: Backend, caches: AssetCaches) {
  /** Blobs no path of the project points at any more. */
  async function collect(ref: string, shas: string[]): Promise<void> {
    if (!shas.length) return;
    const { rows } = await control.query<{ sha256: string }>(
      'select distinct sha256 from platform.assets where ref = $1 and sha256 = any($2::text[])', [ref, shas]);
    const live = new Set(rows.map((r) => r.sha256));
    await backend.remove([...new Set(shas)].filter((s) => !live.has(s)).map((s) => assetKey(ref, s))).catch(() => undefined);
  }

  return {
    async upload(ref: string, input: unknown): Promise<AssetRow[]> {
      const files = decodeFiles(input);
      const blobs = files.map((f) => ({ ...f, sha256: createHash('sha256').update(f.body).digest('hex'), type: contentTypeOf(f.path) }));
      // Bytes first (idempotent: same content, same key), then every path in one transaction.
      for (const b of blobs) await backend.put(assetKey(ref, b.sha256), Readable.from([b.body]), b.body.length, { shared: true });
      const { rows, replaced } = await withTransaction(control, async (c) => {
        const old = await c.query<{ sha256: string }>('select sha256 from platform.assets where ref = $1 and path = any($2::text[]) for update',
          [ref, blobs.map((b) => b.path)]);
        const out: AssetRow[] = [];
        for (const b of blobs) {
          const { rows: [row] } = await c.query<AssetRow>(
            `insert into platform.assets (ref, path, sha256, size, content_type) values ($1, $2, $3, $4, $5)
             on conflict (ref, path) do update set sha256 = excluded.sha256, size = excluded.size, content_type = excluded.content_type,
               updated_at = case when platform.assets.sha256 = excluded.sha256 then platform.assets.updated_at else now() end
             returning path, sha256, size::float8 as size, content_type, updated_at`,
            [ref, b.path, b.sha256, b.body.length, b.type]);
          out.push(row);
        }
        return { rows: out, replaced: old.rows.map((r) => r.sha256) };
      });
      await caches.paths.changed(ref);
      await collect(ref, replaced);
      return rows;
    },

    async list(ref: string): Promise<AssetRow[]> {
      const { rows } = await control.query<AssetRow>(
        'select path, sha256, size::float8 as size, content_type, updated_at from platform.assets where ref = $1 order by path collate "C"', [ref]);
      return rows;
    },

    async remove(ref: string, path: string): Promise<boolean> {
      const { rows } = await control.query<{ sha256: string }>('delete from platform.assets where ref = $1 and path = $2 returning sha256', [ref, assetPath(path)]);
      if (rows.length) await caches.paths.changed(ref);
      await collect(ref, rows.map((r) => r.sha256));
      return rows.length > 0;
    },

    async settings(ref: string): Promise<AssetSettings> {
      const { rows } = await control.query<AssetSettings>(
        'select cache_control, html_cache_control, spa_fallback from platform.asset_settings where ref = $1', [ref]);
      return rows[0] ?? DEFAULT_SETTINGS;
    },

    async updateSettings(ref: string, patch: Record<string, unknown>): Promise<AssetSettings> {
      const next = { ...(await this.settings(ref)) };
      for (const k of ['cache_control', 'html_cache_control'] as const) {
        if (patch[k] === undefined) continue;
        const v = patch[k];
        if (typeof v !== 'string' || v.length > 200 || /[\r\n]/.test(v)) throw errors.validation(`${k} must be a Cache-Control header value`);
        next[k] = v;
      }
      if (patch.spa_fallback !== undefined) {
        if (typeof patch.spa_fallback !== 'boolean') throw errors.validation('spa_fallback must be true or false');
        next.spa_fallback = patch.spa_fallback;
      }
      await control.query(
        `insert into platform.asset_settings (ref, cache_control, html_cache_control, spa_fallback) values ($1, $2, $3, $4)
         on conflict (ref) do update set cache_control = $2, html_cache_control = $3, spa_fallback = $4, updated_at = now()`,
        [ref, next.cache_control, next.html_cache_control, next.spa_fallback]);
      await caches.paths.changed(ref);
      return next;
    },

    /**
     * The file a public path serves, with the project's delivery settings, in one query: the path itself;
     * `index.html` below a directory path; and with the SPA fallback on, `/index.html` for paths without a file
     * extension. `fallback` marks the latter. Cached per (project, path), "nothing there" included.
     */
    resolve(ref: string, rawPath: string): ResolvedAsset | null | Promise<ResolvedAsset | null> {
      const path = rawPath.replace(/^\/+/, '');
      const candidates = path === '' || path.endsWith('/') ? [`${path}index.html`] : [path, `${path}/index.html`];
      if (!candidates.every((p) => isValidObjectName(p))) return null;
      return caches.paths.get(ref, path, () => lookup(ref, path, candidates));
    },

    /** What `resolve` gives for the path when that is cached (no lookup, no promise), else undefined. */
    cachedResolve: (ref: string, rawPath: string): ResolvedAsset | null | undefined => caches.paths.peek(ref, rawPath.replace(/^\/+/, '')),

    /** A small file's bytes when they are in memory (no read), else undefined. */
    cachedRead: (ref: string, row: AssetRow): Buffer | undefined => (caches.blobs.fits(row.size) ? caches.blobs.peek(ref, row.sha256) : undefined),

    /** The file's bytes for a response: a small file from memory; else a whole-file range, read in one buffer of its size. */
    read: (ref: string, row: AssetRow) => {
      const key = assetKey(ref, row.sha256);
      if (caches.blobs.fits(row.size)) return caches.blobs.get(ref, row.sha256, row.size, () => backend.get(key).then(readAll));
      const range = row.size > 0 ? { start: 0, end: row.size - 1 } : undefined;
      return backend.download ? backend.download(key, range) : backend.get(key, range);
    },
  };

  async function lookup(ref: string, path: string, candidates: string[]): Promise<ResolvedAsset | null> {
    const spaCandidate = !(path.split('/').pop() ?? '').includes('.');
    const { rows: [found] } = await control.query<AssetSettings & { files: (AssetRow & { updated_at: string })[] }>(
      `select coalesce(s.cache_control, $3) as cache_control, coalesce(s.html_cache_control, $4) as html_cache_control,
              coalesce(s.spa_fallback, false) as spa_fallback,
              coalesce((select json_agg(json_build_object('path', a.path, 'sha256', a.sha256, 'size', a.size, 'content_type', a.content_type,
                'updated_at', a.updated_at)) from platform.assets a where a.ref = $1 and a.path = any($2::text[])), '[]') as files
         from (select 1) one left join platform.asset_settings s on s.ref = $1`,
      [ref, spaCandidate ? [...candidates, 'index.html'] : candidates, DEFAULT_SETTINGS.cache_control, DEFAULT_SETTINGS.html_cache_control]);
    const settings: AssetSettings = { cache_control: found.cache_control, html_cache_control: found.html_cache_control, spa_fallback: found.spa_fallback };
    const file = (p: string) => {
      const f = found.files.find((r) => r.path === p);
      return f && { ...f, size: Number(f.size), updated_at: new Date(f.updated_at) };
    };
    for (const c of candidates) {
      const row = file(c);
      if (row) return { row, fallback: false, settings };
    }
    const index = spaCandidate && settings.spa_fallback ? file('index.html') : undefined;
    return index ? { row: index, fallback: true, settings } : null;
  }
}

export type AssetsDomain = ReturnType<typeof assetsDomain>;
