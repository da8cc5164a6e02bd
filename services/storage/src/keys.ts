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

/** Supabase's units are decimal (20MB = 20,000,000 bytes), case-insensitive, with no space and no TB. */
const SIZE = /^([0-9]+)(?:\.([0-9]+))?(gb|mb|kb|b)$/i;
const UNIT_DIGITS: Record<string, number> = { gb: 9, mb: 6, kb: 3, b: 0 };

/**
 * "20MB"-style sizes as whole bytes, counted exactly in decimal (no float drift: "0.29MB" is 290,000); a fraction
 * of a byte rounds to the nearest byte.
 */
export function parseSizeString(v: string): number {
  const m = SIZE.exec(v);
  if (!m) throw storageErrors.invalidFileSizeLimit();
  const [, whole, frac = '', unit] = m;
  const shift = UNIT_DIGITS[unit.toLowerCase()];
  const digits = BigInt(whole + frac) * 10n ** BigInt(shift);
  const scale = 10n ** BigInt(frac.length);
  const bytes = (digits * 2n + scale) / (scale * 2n);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw storageErrors.invalidFileSizeLimit();
  return Number(bytes);
}

/**
 * file_size_limit as Supabase reads it: a whole number of bytes or a "20MB"-style string; null clears it; above
 * the service's own ceiling it is EntityTooLarge.
 */
export function parseSizeLimit(v: unknown, ceiling: number): number | null {
  if (v === null || v === undefined) return null;
  let bytes: number;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw storageErrors.invalidRequest('body/file_size_limit must be integer >= 0 or a string such as "20MB"');
    bytes = v;
  } else if (typeof v === 'string') {
    bytes = parseSizeString(v);
  } else {
    throw storageErrors.invalidRequest('body/file_size_limit must be integer >= 0 or a string such as "20MB"');
  }
  if (bytes > ceiling) throw storageErrors.tooLarge();
  return bytes;
}

export function parseMimeList(v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v) || !v.every((m) => typeof m === 'string' && /^[\w.+-]+\/[\w.+*-]+$/.test(m) || m === '*')) {
    throw storageErrors.invalidRequest('allowed_mime_types must be a list of MIME types such as "image/png" or "image/*"');
  }
  return v.length ? (v as string[]) : null;
}
