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
  /** whether the request named a quality (only then is it part of X-Transformations) */
  qualityGiven: boolean;
}

function int(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === '' || v === null) return undefined;
  const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw storageErrors.invalidRequest(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** From query parameters (render routes) or a `transform` object (signing). */
export function parseTransform(q: Record<string, unknown>): Transform {
  const resize = q.resize === undefined || q.resize === '' ? 'cover' : q.resize;
  if (resize !== 'cover' && resize !== 'contain' && resize !== 'fill') throw storageErrors.invalidRequest('resize must be cover, contain or fill');
  const format = q.format;
  if (format !== undefined && format !== 'origin' && format !== 'webp' && format !== 'avif') throw storageErrors.invalidRequest('format must be origin, webp or avif');
  const width = int(q.width, 'width', 0, MAX_DIMENSION) || undefined;
  const height = int(q.height, 'height', 0, MAX_DIMENSION) || undefined;
  const quality = int(q.quality, 'quality', 20, 100);
  return { width, height, resize, format, quality: quality ?? 80, qualityGiven: quality !== undefined };
}

/**
 * The transform as Supabase's X-Transformations header names it (imgproxy's options, in its order, only those
 * given): `height:100,width:200,resizing_type:fill,quality:80,format:avif`. `keepOriginal` names the resize mode
 * as the request did (`resize:cover`), which is the text a signed render URL's token carries.
 */
export function transformKey(t: Transform, keepOriginal = false): string {
  const segments: string[] = [];
  if (t.height) segments.push(`height:${t.height}`);
  if (t.width) segments.push(`width:${t.width}`);
  if (t.width || t.height) segments.push(keepOriginal ? `resize:${t.resize}` : `resizing_type:${RESIZING_TYPE[t.resize]}`);
  if (t.qualityGiven) segments.push(`quality:${t.quality}`);
  if (t.format && t.format !== 'origin') segments.push(`format:${t.format}`);
  return segments.join(',');
}

const RESIZING_TYPE = { cover: 'fill', contain: 'fit', fill: 'force' } as const;

/** A signed render token's transform text back to a transform (Supabase's own and our earlier form both read). */
export function transformFromKey(key: string): Transform {
  const fields: Record<string, string> = {};
  for (const kv of key.split(',')) {
    const [k, v] = kv.split(':');
    if (k && v !== undefined) fields[k] = v;
  }
  const fromType = Object.entries(RESIZING_TYPE).find(([, type]) => type === fields.resizing_type)?.[0];
  return parseTransform({
    width: fields.width === '0' ? undefined : fields.width, height: fields.height === '0' ? undefined : fields.height,
    resize: fields.resize ?? fromType, format: fields.format === 'auto' ? undefined : fields.format, quality: fields.quality,
  });
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
const ORIGIN_FORMATS: Partial<Record<ImageKind, 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff'>> = {
  jpeg: 'jpeg', png: 'png', webp: 'webp', avif: 'avif', gif: 'gif', tiff: 'tiff',
};

export type ImageKind = 'jpeg' | 'png' | 'gif' | 'webp' | 'avif' | 'heif' | 'tiff' | 'svg';
/** how many leading bytes sniffImage needs */
export const SNIFF_BYTES = 1024;

/**
 * What image the bytes are, from their signature, whatever type the object was stored with: storage-js uploads
 * with text/plain unless told otherwise, and imgproxy (Supabase's renderer) reads the bytes, not the header.
 */
export function sniffImage(head: Buffer): ImageKind | null {
  const ascii = (from: number, to: number) => head.subarray(from, to).toString('latin1');
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1'].includes(brand)) return 'heif';
  }
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  // SVG: an <svg> root after an optional BOM, XML prolog, comments, doctype and whitespace
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*(?:<\?xml[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i.test(text)) return 'svg';
  return null;
}

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
  /** what the bytes are (sniffImage), null when they are no image */
  kind: ImageKind | null;
  /** the stored type, for the refusal's message */
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
  if (!src.kind) throw storageErrors.invalidRequest(`Cannot transform an object of type ${src.mimetype}: its bytes are not an image`);
  if (src.size > MAX_SOURCE_BYTES) throw storageErrors.invalidRequest(`Images larger than ${MAX_SOURCE_BYTES / 1024 / 1024} MB are not transformed`);
  const requested = t.format ?? (accept?.includes('image/webp') ? 'webp' : 'origin');
  const format = requested === 'origin' ? (ORIGIN_FORMATS[src.kind] ?? 'png') : requested;
  const key = renderKey(src.ref, src.version, createHash('sha256').update(`${transformKey(t)}|q${t.quality}|${format}`).digest('hex').slice(0, 16));
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
