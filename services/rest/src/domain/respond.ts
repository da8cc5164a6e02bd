// Stage 5 of a request: the result row → status, headers and body in the negotiated media type (JSON array,
// single object or PGRST116, CSV), with Content-Range, Preference-Applied and Location as PostgREST sends them.
import type { Result } from '../db/execute.js';
import { restErrors } from '../errors.js';
import type { ApiRequest, Media } from './parse.js';
import type { Plan } from './plan.js';
import type { ReadNode } from './plan-read.js';

export interface Response {
  status: number;
  headers: Record<string, string>;
  /** null: no body (and no content type) */
  body: string | null;
  type: string;
}

export const contentType = (m: Media) =>
  m === 'csv' ? 'text/csv; charset=utf-8' : m === 'geojson' ? 'application/geo+json; charset=utf-8' : m === 'object' ? 'application/vnd.pgrst.object+json; charset=utf-8' : m === 'openapi' ? 'application/openapi+json; charset=utf-8' : 'application/json; charset=utf-8';

/** `[a, b]` → `a` when the page has exactly one row; otherwise PGRST116 with PostgREST's details text. */
export function singular(body: string, n: number): string {
  if (n !== 1) throw restErrors.singular(n);
  return body.slice(1, -1).trim();
}

/** PostgREST's CSV: the output keys as the header (none when there are no rows), a newline, the rows the
 * statement wrote as Postgres text. */
export const csvBody = (keys: string[], rows: string, n: number) => `${n ? keys.join(',') : ''}\n${rows}`;

export function contentRange(offset: bigint, n: number, total: number | null): string {
  const t = total === null ? '*' : String(total);
  return n > 0 ? `${offset}-${offset + BigInt(n) - 1n}/${t}` : `*/${t}`;
}

export function readStatus(offset: bigint, n: number, total: number | null): number {
  if (total === null) return 200;
  if (offset > total && !(offset === 0n && total === 0)) throw restErrors.rangeNotSatisfiable(offset, total);
  return n < total ? 206 : 200;
}

const shaped = (media: Media, body: string, n: number, keys: string[]) => (media === 'object' ? singular(body, n) : media === 'csv' ? csvBody(keys, body, n) : body);

/** A page of rows: 200, or 206 when the total says there are more (416 past the end). */
function page(req: ApiRequest, node: ReadNode, r: Result, headers: Record<string, string> = {}): Response {
  const offset = node.offset ?? 0n;
  const status = readStatus(offset, r.n, r.total);
  return { status, headers: { 'content-range': contentRange(offset, r.n, r.total), ...headers }, body: shaped(req.media, r.body ?? '[]', r.n, node.keys), type: contentType(req.media) };
}

function written(req: ApiRequest, plan: Extract<Plan, { kind: 'write' }>, r: Result): Response {
  const { prefer } = req;
  const post = req.method === 'POST';
  // PUT is PostgREST's single-row upsert: no resolution or missing echoed, no Content-Range, 204 without a body.
  const put = req.method === 'PUT';
  // PostgREST's order: resolution, missing, return, count, tx, handling, max-affected
  const applied = [!put && prefer.resolution && `resolution=${prefer.resolution}`, !put && prefer.missing && 'missing=default', prefer.return && `return=${prefer.return}`,
    prefer.count && `count=${prefer.count}`, prefer.tx && `tx=${prefer.tx}`, prefer.strict && 'handling=strict', prefer.maxAffected !== null && `max-affected=${prefer.maxAffected}`].filter(Boolean);
  const headers: Record<string, string> = {};
  if (applied.length) headers['preference-applied'] = applied.join(', ');
  const total = prefer.count ? String(r.n) : '*';
  if (!put) headers['content-range'] = req.method === 'PATCH' && r.n > 0 ? `0-${r.n - 1}/${total}` : `*/${total}`;
  if (r.loc) {
    const pk = JSON.parse(r.loc) as Record<string, unknown>;
    headers.location = `/${encodeURIComponent(req.target.name)}?${Object.entries(pk).map(([k, v]) => `${encodeURIComponent(k)}=eq.${encodeURIComponent(String(v))}`).join('&')}`;
  }
  if (!plan.representation) return { status: post ? 201 : 204, headers, body: null, type: contentType(req.media) };
  const created = (post || put) && !(r.inserted === 0 && r.n > 0) ? 201 : 200;
  return { status: created, headers, body: shaped(req.media, r.body!, r.n, plan.representation.keys), type: contentType(req.media) };
}

function called(req: ApiRequest, plan: Extract<Plan, { kind: 'call' }>, r: Result): Response {
  const { media, prefer } = req;
  // A function that returns no set is one row: PostgREST answers its range (and the count asked for) too.
  const headers: Record<string, string> = { 'content-range': contentRange(0n, 1, prefer.count ? 1 : null) };
  if (prefer.count) headers['preference-applied'] = `count=${prefer.count}`;
  const none: Response = { status: 204, headers, body: null, type: contentType(media) };
  if (plan.shape.kind === 'void' || prefer.return === 'minimal') return none;
  if (plan.shape.kind === 'scalar') return { status: 200, headers, body: r.body ?? 'null', type: contentType(media === 'csv' || media === 'geojson' ? 'json' : media) };
  if (plan.shape.setof) return page(req, plan.node!, r, prefer.count ? { 'preference-applied': `count=${prefer.count}` } : {});
  // A function returning one composite answers an object (or null), not an array.
  const body = r.body ?? '[]';
  const out = media === 'csv' ? csvBody(plan.node!.keys, body, r.n) : media === 'geojson' ? body : r.n ? body.slice(1, -1).trim() : 'null';
  return { status: 200, headers, body: out, type: contentType(media) };
}

export function respond(req: ApiRequest, plan: Plan, r: Result): Response {
  if (plan.kind === 'write') return written(req, plan, r);
  if (plan.kind === 'call') return called(req, plan, r);
  return page(req, plan.node, r, req.prefer.count ? { 'preference-applied': `count=${req.prefer.count}` } : {});
}
