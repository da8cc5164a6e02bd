// The routing table: which path prefix goes to which service, ichibase aliases, and what the gateway checks.
import { AI_UPSTREAM_TIMEOUT_MAX_MS, FUNCTION_TIMEOUT_MAX_MS } from '@basalt/config';
import type { Config } from './config.js';

// a function and a model's answer may take as long as their own service allows, which times them out itself, in its
// API's shape: the gateway waits past that
const FUNCTION_WAIT_MS = FUNCTION_TIMEOUT_MAX_MS + 30_000;
const MODEL_WAIT_MS = AI_UPSTREAM_TIMEOUT_MAX_MS + 30_000;

export type Service =
  | 'platform' | 'rest' | 'auth' | 'storage' | 'functions' | 'ai-gateway'
  | 'memory' | 'realtime' | 'scheduler' | 'documents';

/**
 * key: 'required' — an apikey (or bearer) signed by the project is checked here, as Kong's key-auth does;
 *      'optional' — the service decides (public objects, signed URLs, verify_jwt=false functions, platform tokens);
 *      a present `apikey` header is still verified.
 * project: whether the route needs a resolved project at all.
 */
export interface Route {
  prefix: string;
  /** canonical prefix the service serves; defaults to prefix */
  to?: string;
  service: Service;
  key: 'required' | 'optional';
  project: boolean;
  /** sub-paths reached by browser redirects without an apikey */
  open?: string[];
  /** how long the service may take to answer, if not UPSTREAM_TIMEOUT_MS */
  timeoutMs?: number;
}

/** Platform-API paths owned by another service (which checks the platform token itself). */
export const PLATFORM_DELEGATED: { pattern: RegExp; service: Service }[] = [
  { pattern: /^\/platform\/v1\/projects\/[a-z]{20}\/(functions|secrets)(\/|$)/, service: 'functions' },
  { pattern: /^\/platform\/v1\/projects\/[a-z]{20}\/outbox(\/|$)/, service: 'auth' },
  { pattern: /^\/platform\/v1\/projects\/[a-z]{20}\/ai(\/|$)/, service: 'ai-gateway' },
  { pattern: /^\/platform\/v1\/projects\/[a-z]{20}\/documents(\/|$)/, service: 'documents' },
  { pattern: /^\/platform\/v1\/projects\/[a-z]{20}\/memory(\/|$)/, service: 'memory' },
  { pattern: /^\/platform\/v1\/projects\/[a-z]{20}\/realtime(\/|$)/, service: 'realtime' },
  { pattern: /^\/platform\/v1\/projects\/[a-z]{20}\/storage(\/|$)/, service: 'storage' },
];

export const ROUTES: Route[] = [
  { prefix: '/platform/v1', service: 'platform', key: 'optional', project: false },
  { prefix: '/mcp', service: 'platform', key: 'optional', project: false },
  { prefix: '/rest/v1', service: 'rest', key: 'required', project: true },
  { prefix: '/postgres', to: '/rest/v1', service: 'rest', key: 'required', project: true },
  { prefix: '/auth/v1', service: 'auth', key: 'required', project: true, open: ['/verify', '/callback', '/authorize', '/.well-known/jwks.json'] },
  { prefix: '/auth', to: '/auth/v1', service: 'auth', key: 'required', project: true, open: ['/verify', '/callback', '/authorize', '/.well-known/jwks.json'] },
  { prefix: '/storage/v1', service: 'storage', key: 'optional', project: true },
  { prefix: '/assets/admin/v1', service: 'storage', key: 'optional', project: true },
  { prefix: '/assets/v1', service: 'storage', key: 'optional', project: true },
  { prefix: '/functions/v1', service: 'functions', key: 'optional', project: true, timeoutMs: FUNCTION_WAIT_MS },
  { prefix: '/functions', to: '/functions/v1', service: 'functions', key: 'optional', project: true, timeoutMs: FUNCTION_WAIT_MS },
  { prefix: '/realtime/v1', service: 'realtime', key: 'required', project: true },
  { prefix: '/realtime', to: '/realtime/v1/websocket', service: 'realtime', key: 'required', project: true },
  { prefix: '/mongo/v1', service: 'documents', key: 'required', project: true },
  { prefix: '/mongo', to: '/mongo/v1', service: 'documents', key: 'required', project: true },
  { prefix: '/mem/v1', service: 'memory', key: 'optional', project: false },
  { prefix: '/v1/memories', service: 'memory', key: 'optional', project: false },
  { prefix: '/v1/entities', service: 'memory', key: 'optional', project: false },
  // the rest of mem0's API (MemoryClient 2.x and 3.x) shares /v1 with the model endpoints: these go to memory
  { prefix: '/v1/ping', service: 'memory', key: 'optional', project: false },
  { prefix: '/v1/batch', service: 'memory', key: 'optional', project: false },
  { prefix: '/v1/event', service: 'memory', key: 'optional', project: false },
  { prefix: '/v1/events', service: 'memory', key: 'optional', project: false },
  { prefix: '/v1/feedback', service: 'memory', key: 'optional', project: false },
  { prefix: '/v1/exports', service: 'memory', key: 'optional', project: false },
  { prefix: '/v2', service: 'memory', key: 'optional', project: false },
  { prefix: '/v3', service: 'memory', key: 'optional', project: false },
  { prefix: '/cron/admin/v1', service: 'scheduler', key: 'optional', project: true },
  { prefix: '/v1', service: 'ai-gateway', key: 'optional', project: false, timeoutMs: MODEL_WAIT_MS },
];

export interface Match {
  route: Route;
  /** the path the service receives */
  path: string;
  /** path below the prefix, for open-route checks */
  rest: string;
}

/** `path` excludes the query string; `search` is appended to the forwarded path. */
export function matchRoute(path: string, search: string): Match | null {
  if (path.startsWith('/platform/v1/projects/')) for (const d of PLATFORM_DELEGATED) {
    if (d.pattern.test(path)) return { route: { prefix: '/platform/v1', service: d.service, key: 'optional', project: false }, path: path + search, rest: path.slice(12) };
  }
  for (const route of ROUTES) {
    // the prefix, then the path's end or a slash (no `${prefix}/` built per route tried: this runs per request)
    const n = route.prefix.length;
    if (!path.startsWith(route.prefix) || (path.length > n && path.charCodeAt(n) !== 47)) continue;
    const rest = path.slice(n);
    const to = route.to ?? route.prefix;
    // `/realtime` alone is the ichibase WebSocket endpoint; `/realtime/x` maps below /realtime/v1.
    const canonical = route.prefix === '/realtime' && rest !== '' ? `/realtime/v1${rest}` : `${to}${route.prefix === '/realtime' ? '' : rest}`;
    return { route, path: canonical + search, rest };
  }
  return null;
}

/**
 * ichibase's CDN: reads of /cdn/<ref>/<bucket>/<path> on Basalt's own host, or of /<ref>/<bucket>/<path> on the
 * host cdn.<domain>; storage checks the ref, the bucket and the token. A project's own host keeps /cdn for its site.
 */
export const CDN_ROUTE: Route = { prefix: '/cdn', service: 'storage', key: 'optional', project: false };
export const cdnMatch = (path: string, search: string): Match | null =>
  path === '/cdn' || path.startsWith('/cdn/') ? { route: CDN_ROUTE, path: `${path}${search}`, rest: path.slice(4) } : null;

/** Studio, the web admin, on Basalt's own host only: a project's host keeps /studio for its site. */
export const STUDIO_ROUTE: Route = { prefix: '/studio', service: 'platform', key: 'optional', project: false };
export const studioMatch = (path: string, search: string): Match | null =>
  path === '/studio' || path.startsWith('/studio/') ? { route: STUDIO_ROUTE, path: `${path}${search}`, rest: path.slice(7) } : null;

/** A project's own host (subdomain, custom domain) or path prefix serves its static site for any other GET. */
export const SITE_ROUTE: Route = { prefix: '/assets/v1', service: 'storage', key: 'optional', project: true };
export const siteMatch = (path: string, search: string): Match => ({ route: SITE_ROUTE, path: `/assets/v1${path}${search}`, rest: path });

export function upstreams(config: Config): Record<Service, URL> {
  return {
    platform: new URL(config.PLATFORM_URL),
    rest: new URL(config.REST_URL),
    auth: new URL(config.AUTH_URL),
    storage: new URL(config.STORAGE_URL),
    functions: new URL(config.FUNCTIONS_URL),
    'ai-gateway': new URL(config.AI_GATEWAY_URL),
    memory: new URL(config.MEMORY_URL),
    realtime: new URL(config.REALTIME_URL),
    scheduler: new URL(config.SCHEDULER_URL),
    documents: new URL(config.DOCUMENTS_URL),
  };
}
