// Image transformation (Supabase's /render/image, which storage-js reaches through `transform` options):
// width, height, resize (cover | contain | fill), format (origin | webp | avif; WebP when the client accepts it
// and none is asked for) and quality, done by sharp (libvips), loaded on the first transform only.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
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

export interface Rendered {
  body: Buffer;
  contentType: string;
  etag: string;
}

export async function render(source: Readable, sourceMime: string, sourceEtag: string, t: Transform, accept: string | undefined): Promise<Rendered> {
  if (!sourceMime.startsWith('image/')) throw storageErrors.invalidRequest(`Cannot transform an object of type ${sourceMime}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of source as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_SOURCE_BYTES) {
      source.destroy();
      throw storageErrors.invalidRequest(`Images larger than ${MAX_SOURCE_BYTES / 1024 / 1024} MB are not transformed`);
    }
    chunks.push(c);
  }
  const format = t.format ?? (accept?.includes('image/webp') ? 'webp' : 'origin');
  const sharp = await loadSharp();
  let img = sharp(Buffer.concat(chunks), { failOn: 'error', limitInputPixels: 50_000_000 }).rotate();
  if (t.width || t.height) {
    img = img.resize({ width: t.width, height: t.height, fit: t.resize === 'contain' ? 'inside' : t.resize, withoutEnlargement: false });
  }
  if (format === 'webp') img = img.webp({ quality: t.quality });
  else if (format === 'avif') img = img.avif({ quality: t.quality });
  else if (/jpe?g/.test(sourceMime)) img = img.jpeg({ quality: t.quality });
  else if (sourceMime === 'image/png') img = img.png();
  let body: Buffer;
  let info: { format: string };
  try {
    ({ data: body, info } = await img.toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw storageErrors.invalidRequest(`The image could not be transformed: ${(e as Error).message}`);
  }
  const contentType = format === 'origin' ? sourceMime : `image/${info.format === 'heif' ? 'avif' : info.format}`;
  const etag = `"${createHash('sha256').update(`${sourceEtag}|${transformKey(t)}|${contentType}`).digest('hex').slice(0, 32)}"`;
  return { body, contentType, etag };
}
