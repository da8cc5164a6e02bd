// Stage 1 of a request: the HTTP request → a typed description of what is asked (table or function, select tree,
// filters, order, range, Prefer, the negotiated media type, the body). No schema knowledge and no I/O: names
// stay names until the planner looks them up.
import type { IncomingHttpHeaders } from 'node:http';
import { restErrors } from '../errors.js';
import { parseCsv } from './csv.js';
import { applyRange, parsePrefer, parseQuery, type ParsedQuery, type Prefer } from './query.js';

export type Media = 'json' | 'object' | 'csv' | 'geojson' | 'openapi';
export type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

export interface ApiRequest {
  method: Method;
  /** below /rest/v1, as PostgREST sees it (request.path) */
  path: string;
  target: { kind: 'table' | 'rpc'; name: string };
  media: Media;
  /** `…;nulls=stripped` on the Accept type */
  stripNulls: boolean;
  /** `Accept: application/vnd.pgrst.plan[+json|+text]; for="…"; options=…`: the EXPLAIN of the statement that would
   * answer `media` (the `for` type) instead of its result */
  plan: PlanMedia | null;
  prefer: Prefer;
  query: ParsedQuery;
  /** the parsed body (JSON value, form fields, CSV rows); undefined when there is none */
  body: unknown;
}

export interface HttpRequest {
  method: string;
  /** path below /rest/v1 */
  path: string;
  /** the raw query string, without '?' */
  search: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

const header = (h: IncomingHttpHeaders, name: string) => (typeof h[name] === 'string' ? (h[name] as string) : undefined);

/** `…;nulls=stripped` on the array or object media type asks for null-valued keys to be left out. */
export const stripsNulls = (accept: string | undefined) => !!accept && /application\/vnd\.pgrst\.(array|object)\+json[^,]*;\s*nulls=stripped/i.test(accept);

export const PLAN_OPTIONS = ['analyze', 'verbose', 'settings', 'buffers', 'wal'] as const;
export interface PlanMedia { format: 'json' | 'text'; for: 'json' | 'object' | 'csv' | 'geojson'; forType: string; options: (typeof PLAN_OPTIONS)[number][] }

const FOR_TYPES: Record<string, PlanMedia['for']> = {
  'application/json': 'json', '*/*': 'json', 'application/vnd.pgrst.array+json': 'json', 'application/vnd.pgrst.object+json': 'object', 'text/csv': 'csv', 'application/geo+json': 'geojson',
};

/** `application/vnd.pgrst.plan+json; for="text/csv"; options=analyze|verbose` (PostgREST's MediaType.decodeMediaType). */
export function parsePlanMedia(entry: string, accept: string): PlanMedia {
  const [type, ...params] = entry.split(';').map((x) => x.trim());
  const plan: PlanMedia = { format: /\+json$/i.test(type) ? 'json' : 'text', for: 'json', forType: 'application/json', options: [] };
  for (const p of params) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    const k = p.slice(0, i).trim().toLowerCase(), v = p.slice(i + 1).trim().replace(/^"|"$/g, '');
    if (k === 'for') {
      const f = FOR_TYPES[v.toLowerCase()];
      if (!f) throw restErrors.mediaType(accept);
      plan.for = f;
      plan.forType = f === 'json' ? 'application/json' : v.toLowerCase();
    } else if (k === 'options') {
      plan.options = v.split('|').map((o) => o.trim().toLowerCase()).filter((o): o is PlanMedia['options'][number] => (PLAN_OPTIONS as readonly string[]).includes(o));
    }
  }
  return plan;
}

/** The plan media type as PostgREST names it in Content-Type (for= always, options= when given). */
export const planContentType = (p: PlanMedia) =>
  `application/vnd.pgrst.plan+${p.format}; for="${p.forType}"${p.options.length ? `; options=${p.options.join('|')}` : ''}; charset=utf-8`;

const PLAN_TYPE = /^application\/vnd\.pgrst\.plan(\+(json|text))?$/i;

/** The Accept entry asking for an execution plan, when that is the first type the request accepts. */
function planEntry(accept: string | undefined): string | null {
  if (!accept || !/vnd\.pgrst\.plan/i.test(accept)) return null;
  for (const entry of accept.split(',')) {
    const t = entry.split(';')[0].trim();
    if (PLAN_TYPE.test(t)) return entry;
    if (negotiateOne(t.toLowerCase(), false)) return null;
  }
  return null;
}

function negotiateOne(t: string, allowOpenApi: boolean): Media | null {
  if (t === 'application/vnd.pgrst.object+json' || t === 'application/vnd.pgrst.object') return 'object';
  if (t === 'text/csv') return 'csv';
  if (t === 'application/geo+json') return 'geojson';
  if (allowOpenApi && t === 'application/openapi+json') return 'openapi';
  if (['application/json', 'application/vnd.pgrst.array+json', '*/*', 'application/*'].includes(t)) return allowOpenApi ? 'openapi' : 'json';
  return null;
}

export function negotiate(accept: string | undefined, allowOpenApi = false): Media {
  if (!accept || !accept.trim()) return 'json';
  for (const entry of accept.split(',')) {
    const m = negotiateOne(entry.split(';')[0].trim().toLowerCase(), allowOpenApi);
    if (m) return m;
  }
  throw restErrors.mediaType(accept);
}

const isEmptyObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.keys(v).length;

export function parseRequest(http: HttpRequest, target: ApiRequest['target']): ApiRequest {
  const method = http.method as Method;
  const accept = header(http.headers, 'accept');
  const entry = planEntry(accept);
  const plan = entry ? parsePlanMedia(entry, accept!) : null;
  const media = plan ? plan.for : negotiate(accept);
  const prefer = parsePrefer(http.headers.prefer);
  // PUT is PostgREST's single-row upsert.
  if (method === 'PUT' && target.kind === 'table') prefer.resolution = 'merge-duplicates';
  const readsArgs = target.kind === 'rpc' && (method === 'GET' || method === 'HEAD');
  const query = parseQuery(new URLSearchParams(http.search), readsArgs);
  applyRange(query.spec, header(http.headers, 'range'));
  const req: ApiRequest = { method, path: http.path, target, media, stripNulls: stripsNulls(accept), plan, prefer, query, body: undefined };
  if (target.kind === 'rpc') {
    if (readsArgs) return req;
    // A function takes named arguments (an object) or, with one unnamed json parameter, the whole body.
    if (http.body !== undefined && (typeof http.body !== 'object' || http.body === null)) throw restErrors.badBody('Invalid JSON body for a function call');
    return { ...req, body: http.body };
  }
  if (method === 'GET' || method === 'HEAD') return req;
  let body = http.body;
  if (typeof body === 'string' && /^text\/csv\b/i.test(header(http.headers, 'content-type') ?? '')) body = parseCsv(body);
  // No body at all (or an empty one) is not an empty object to insert; a DELETE needs none.
  if (method !== 'DELETE' && (body === undefined || (isEmptyObject(body) && http.headers['content-length'] === '0'))) {
    throw restErrors.badBody('Empty or invalid json');
  }
  return { ...req, body };
}
