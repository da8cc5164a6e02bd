// Response negotiation and shaping: JSON array, single object (PGRST116), CSV; Content-Range and the
// 200/206/416 status of reads.
import { restErrors } from '../errors.js';

export type Media = 'json' | 'object' | 'csv' | 'openapi';

/** `…;nulls=stripped` on the array or object media type asks for null-valued keys to be left out. */
export const stripsNulls = (accept: string | undefined) => !!accept && /application\/vnd\.pgrst\.(array|object)\+json[^,]*;\s*nulls=stripped/i.test(accept);

export function negotiate(accept: string | undefined, allowOpenApi = false): Media {
  if (!accept || !accept.trim()) return 'json';
  const types = accept.split(',').map((s) => s.split(';')[0].trim().toLowerCase());
  for (const t of types) {
    if (t === 'application/vnd.pgrst.object+json' || t === 'application/vnd.pgrst.object') return 'object';
    if (t === 'text/csv') return 'csv';
    if (allowOpenApi && t === 'application/openapi+json') return 'openapi';
    if (['application/json', 'application/vnd.pgrst.array+json', '*/*', 'application/*'].includes(t)) return allowOpenApi ? 'openapi' : 'json';
  }
  throw restErrors.mediaType(accept);
}

export const contentType = (m: Media) =>
  m === 'csv' ? 'text/csv; charset=utf-8' : m === 'object' ? 'application/vnd.pgrst.object+json; charset=utf-8' : m === 'openapi' ? 'application/openapi+json; charset=utf-8' : 'application/json; charset=utf-8';

/** `[a, b]` → `a` when the page has exactly one row; otherwise PGRST116 with PostgREST's details text. */
export function singular(body: string, n: number): string {
  if (n !== 1) throw restErrors.singular(n);
  return body.slice(1, -1).trim();
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(body: string): string {
  const rows = JSON.parse(body) as Record<string, unknown>[];
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]);
  return [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n');
}

export function contentRange(offset: number, n: number, total: number | null): string {
  const t = total === null ? '*' : String(total);
  return n > 0 ? `${offset}-${offset + n - 1}/${t}` : `*/${t}`;
}

export function readStatus(offset: number, n: number, total: number | null): number {
  if (total === null) return 200;
  if (offset > total && !(offset === 0 && total === 0)) throw restErrors.rangeNotSatisfiable(offset, total);
  return n < total ? 206 : 200;
}
