// Byte ranges and download names for object downloads (conditional requests: @basalt/http's notModified).
import type { ByteRange } from '../backend/index.js';

/** A single `bytes=` range: undefined when absent or not a single range (the whole object), null when unsatisfiable. */
export function parseRange(header: string | undefined, size: number): ByteRange | null | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

/** `attachment`, with the file name quoted and RFC 5987-encoded for non-ASCII names. */
export function attachment(filename: string): string {
  if (!filename) return 'attachment;';
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
