// Image transformation (Supabase's /render/image, which storage-js reaches through `transform` options):
// width, height, resize (cover | contain | fill), format (origin | webp | avif; WebP when the client accepts it
// and none is asked for) and quality, done by sharp (libvips), loaded on the first transform only.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { renderKey, type Backend } from '../backend/index.js';
import { storageErrors } from '../errors.js';

export const MAX_DIMENSION = 2500;
/** larger sources are refused rather than decoded */
export const MAX_SOURCE_BYTES = 25 * 1024 * 1024;

export interface Transform {
  width?: number;
  height?: number;
  resize: 'cover' | 'contain' | 'fill';
  format?: 'origin' | 'webp' | 'avif';
  quality: number;
}

function int(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === '' || v === null) return undefined;
  const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw storageErrors.invalidRequest(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** From query parameters (render routes) or a `transform` object (signing). */
export function parseTransform(q: Record<string, unknown>): Transform {
  const resize = q.resize ?? 'cover';
  if (resize !== 'cover' && resize !== 'contain' && resize !== 'fill') throw storageErrors.invalidRequest('resize must be cover, contain or fill');
  const format = q.format;
  if (format !== undefined && format !== 'origin' && format !== 'webp' && format !== 'avif') throw storageErrors.invalidRequest('format must be origin, webp or avif');
  const width = int(q.width, 'width', 0, MAX_DIMENSION) || undefined;
  const height = int(q.height, 'height', 0, MAX_DIMENSION) || undefined;
  return { width, height, resize, format, quality: int(q.quality, 'quality', 20, 100) ?? 80 };
}

/** A canonical text of a transform: what a signed render token is bound to. */
export const transformKey = (t: Transform) =>
  `width:${t.width ?? 0},height:${t.height ?? 0},resize:${t.resize},format:${t.format ?? 'auto'},quality:${t.quality}`;

export function transformFromKey(key: string): Transform {
  const fields = Object.fromEntries(key.split(',').map((kv) => kv.split(':')));
  return parseTransform({ ...fields, format: fields.format === 'auto' ? undefined : fields.format });
}

type Sharp = (typeof import('sharp'))['default'];
let sharpModule: Promise<Sharp> | null = null;
const loadSharp = () =>
  (sharpModule ??= import('sharp').then((m) => {
    const sharp = m.default;
    sharp.cache(false); // no decoded-image cache: memory stays per request
    sharp.concurrency(1);
    return sharp;
  }));

/** what a transform produces when the source's own format is kept; other sources (SVG, HEIC, …) become PNG */
const ORIGIN_FORMATS: Record<string, 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff'> = {
  'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/png': 'png', 'image/webp': 'webp', 'image/avif': 'avif', 'image/gif': 'gif', 'image/tiff': 'tiff',
};

/** At most `limit` jobs at once; the rest wait their turn. */
function gate(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

async function collect(source: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of source as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) {
      source.destroy();
      throw storageErrors.invalidRequest(`Images larger than ${max / 1024 / 1024} MB are not transformed`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks, size);
}

export interface RenderSource {
  ref: string;
  /** the object's current version: a rendered variant is cached under it and dies with it */
  version: string;
  mimetype: string;
  size: number;
  read: () => Promise<Readable>;
}

/** What a transform of a source will be, known before any byte is read: a 304 costs no rendering. */
export interface Variant {
  key: string;
  format: keyof typeof FORMAT_OPTIONS;
  contentType: string;
  etag: string;
}

const FORMAT_OPTIONS = { jpeg: true, png: false, webp: true, avif: true, gif: false, tiff: true };

export function variantOf(src: RenderSource, t: Transform, accept: string | undefined): Variant {
  if (!src.mimetype.startsWith('image/')) throw storageErrors.invalidRequest(`Cannot transform an object of type ${src.mimetype}`);
  if (src.size > MAX_SOURCE_BYTES) throw storageErrors.invalidRequest(`Images larger than ${MAX_SOURCE_BYTES / 1024 / 1024} MB are not transformed`);
  const requested = t.format ?? (accept?.includes('image/webp') ? 'webp' : 'origin');
  const format = requested === 'origin' ? (ORIGIN_FORMATS[src.mimetype] ?? 'png') : requested;
  const key = renderKey(src.ref, src.version, createHash('sha256').update(`${transformKey(t)}|${format}`).digest('hex').slice(0, 16));
  return { key, format, contentType: `image/${format}`, etag: `"${createHash('sha256').update(key).digest('hex').slice(0, 32)}"` };
}

/**
 * Renders transforms, a few at a time per process (libvips is CPU- and memory-hungry), and keeps each variant in
 * the backend under <ref>/r/<version><variant>, so a thumbnail is computed once per object version; the orphan
 * sweeper removes variants of versions that are gone.
 */
export function renderer(backend: Backend, concurrency = 2) {
  const run = gate(concurrency);
  return async (src: RenderSource, t: Transform, v: Variant): Promise<Buffer> => {
    const cached = await backend.get(v.key).then((s) => collect(s, Infinity), () => null);
    if (cached) return cached;

    const body = await run(async () => {
      const input = await collect(await src.read(), MAX_SOURCE_BYTES);
      const sharp = await loadSharp();
      let img = sharp(input, { failOn: 'error', limitInputPixels: 50_000_000 }).rotate();
      if (t.width || t.height) img = img.resize({ width: t.width, height: t.height, fit: t.resize === 'contain' ? 'inside' : t.resize });
      img = img.toFormat(v.format, FORMAT_OPTIONS[v.format] ? { quality: t.quality } : {});
      try {
        return await img.toBuffer();
      } catch (e) {
        throw storageErrors.invalidRequest(`The image could not be transformed: ${(e as Error).message}`);
      }
    });
    await backend.put(v.key, Readable.from([body]), body.length, { shared: true }).catch(() => undefined); // a cache miss next time, no more
    return body;
  };
}
