// What may be an object or bucket name. Names are only ever metadata (bytes live under a random version key),
// but a name that could act as a path anywhere downstream is refused outright: `.`/`..` segments, absolute
// paths, backslashes, NUL and other control characters, empty segments.
import { storageErrors } from './errors.js';

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
const BUCKET = /^[A-Za-z0-9_!.*'() &$@=;:+,?-]{1,100}$/;
export const MAX_KEY_BYTES = 1024;

export function isValidObjectName(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) > MAX_KEY_BYTES) return false;
  if (CONTROL.test(name) || name.includes('\\') || name.startsWith('/')) return false;
  return name.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

export function objectName(name: unknown): string {
  if (typeof name !== 'string' || !isValidObjectName(name)) throw storageErrors.invalidKey(String(name));
  return name;
}

export function bucketId(id: unknown): string {
  if (typeof id !== 'string' || !BUCKET.test(id) || id === '.' || id === '..') throw storageErrors.invalidBucketName(String(id));
  return id;
}

/** `image/*` matches `image/png`; `*\/*` matches everything; parameters (`; charset=`) are ignored. */
export function mimeAllowed(mime: string, allowed: string[] | null): boolean {
  if (!allowed || allowed.length === 0) return true;
  const m = mime.split(';')[0].trim().toLowerCase();
  const [type] = m.split('/');
  return allowed.some((a) => {
    const p = a.trim().toLowerCase();
    return p === m || p === '*/*' || p === '*' || (p.endsWith('/*') && p.slice(0, -2) === type);
  });
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** file_size_limit as a number of bytes or a "20MB"-style string; null clears it. */
export function parseSizeLimit(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?b)?\s*$/i.exec(v);
    if (m) return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]);
  }
  throw storageErrors.invalidRequest(`file_size_limit must be a number of bytes or a size such as "20MB"`);
}

export function parseMimeList(v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v) || !v.every((m) => typeof m === 'string' && /^[\w.+-]+\/[\w.+*-]+$/.test(m) || m === '*')) {
    throw storageErrors.invalidRequest('allowed_mime_types must be a list of MIME types such as "image/png" or "image/*"');
  }
  return v.length ? (v as string[]) : null;
}
