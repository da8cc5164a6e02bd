// The gateway's request pipeline: CORS → own endpoints → route → project → key → rate limit → forward, or a
// published asset answered from the asset cache (asset-cache.ts).
// Plain node:http rather than Express on the hot path (the difference between ~8k and ~20k req/s here), and for the
// common GET not even that: @basalt/http's front answers it with the subset of req/res the README lists.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import client from 'prom-client';
import { newRequestId, requestIdOf, type Logger } from '@basalt/http';
import type { Meter } from '@basalt/metering';
import { capped, verifiedClaims, type Project, type ProjectActivity, type ProjectRegistry } from '@basalt/tenancy';
import type { AssetCache } from './asset-cache.js';
import type { Config } from './config.js';
import { answerPreflight, corsFor, corsHeaders, isPreflight } from './cors.js';
import { quotaErrorBody, sendUpstreamFailure, type UpstreamFailure } from './errors.js';
import { requestMeter } from './metering.js';
import { isOpaqueKey, OpaqueKeyError, swapOpaqueKeys, type Swap } from './opaque-keys.js';
import { UpstreamPool } from '@basalt/upstream';
import { rawForward, type RawForward } from './raw-upstream.js';
import { headerLines, sendJson, tunnel, upgradeHeaders } from './proxy.js';
import type { RateLimiter } from '@basalt/rate-limit';
import { hostName, isBaseHost, locateSlow, locateSync, tokenFrom, type Located } from './resolve.js';
import { cdnMatch, matchRoute, SITE_ROUTE, siteMatch, studioMatch, upstreams, type Match } from './routes.js';
import { GatewayHistogram } from './request-metrics.js';

/** true when the token verifies with the project's keys (cached per project) and names no other project */
const keyIsValid = (project: Project, token: string): boolean => {
  try {
    verifiedClaims(project, token);
    return true;
  } catch {
    return false;
  }
};

export interface GatewayDeps {
  config: Config;
  registry: ProjectRegistry;
  limiter: RateLimiter;
  /** the gateway's Prometheus registry (process metrics, the rate limiter's, and its request histogram) */
  metrics: client.Registry;
  redis: Redis;
  /** usage per project per hour: requests and response bytes (see metering.ts) */
  meter?: Meter;
  /** records each project's activity and wakes a sleeping one before its request goes on */
  activity?: ProjectActivity;
  /** published assets answered here without the hop to storage (asset-cache.ts) */
  assets?: AssetCache;
  ready: () => Promise<void>;
  log: Logger;
}

const SHARED_ORIGIN_SANDBOX = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';
const TRAVERSAL = /(^|\/)(\.|%2e){1,2}(\/|$)|%2f|%5c|\\/i;
/** whether a path has any character TRAVERSAL looks for: most have none, and skip the expression */
const mayTraverse = (path: string) => path.includes('.') || path.includes('%') || path.includes('\\');

/** at: when the request came (Date.now(), read once for the rate limit, activity and metering) */
type Admission = { project: Project | null; located: Located; swap: Swap | null; at: number };

class Reject {
  /** `body`: sent instead of Kong's `{message}` (a plan quota, in the API's own shape) */
  constructor(readonly status: number, readonly message: string, readonly headers: string[] = [], readonly body?: unknown) {}
}

export function createGateway(deps: GatewayDeps) {
  const { config, registry, limiter, log } = deps;
  const assets = deps.assets ?? null;
  const targets = upstreams(config);
  const pools = new Map(Object.entries(targets).map(([name, url]) => [name, new UpstreamPool({ host: url.hostname, port: Number(url.port || 80) })]));
  const base = new URL(config.BASALT_PUBLIC_URL);
  const registryMetrics = deps.metrics;
  const duration = new GatewayHistogram(registryMetrics);
  let draining = false;
  const proto = base.protocol.replace(':', '');
  const cdnHost = `cdn.${config.BASALT_DOMAIN}`;
  const metered = requestMeter(deps.meter);
  /** open WebSocket tunnels: a drain cuts them (their clients reconnect through another replica) */
  const tunnels = new Set<Duplex>();

  const baseUrlFor = (located: Located, ref: string | null) => {
    if (!ref) return base.origin;
    if (located.via === 'subdomain') return `${base.protocol}//${ref}.${config.BASALT_DOMAIN}${base.port ? `:${base.port}` : ''}`;
    if (located.via === 'path' || located.via === 'token') return `${base.origin}/project/${ref}`;
    return base.origin;
  };

  /**
   * Which project, whether the key is the project's own, and the rate limit. Synchronous (no promise, no microtask)
   * in the common case: the project named by host or path, cached, with tokens left in its rate-limit slice.
   * `at`: Date.now() when the request came, one clock read for the rate limit, activity and metering.
   */
  function admit(req: IncomingMessage, located: Located, match: Match, query: URLSearchParams | null, at: number): Admission | Promise<Admission> {
    if (located.ref !== null) return admitTo(req, located, match, query, at);
    // after a wait, the clock is read again: the rate limit counts a request in the window it is admitted in
    return locateSlow(req, located, config.BASALT_DOMAIN, registry, query).then((where) => admitTo(req, where, match, query, Date.now()));
  }

  function admitTo(req: IncomingMessage, located: Located, match: Match, query: URLSearchParams | null, at: number): Admission | Promise<Admission> {
    if (located.ref === null) {
      if (!match.route.project) return { project: null, located, swap: null, at };
      if (match.route.key === 'required') throw new Reject(401, 'No API key found in request');
      throw new Reject(404, 'Project not found');
    }
    const cached = registry.peek(located.ref);
    if (cached) return check(req, cached, located, match, query, at);
    return registry.get(located.ref).then((project) => {
      if (!project) throw new Reject(404, 'Project not found');
      return check(req, project, located, match, query, Date.now());
    });
  }

  function check(req: IncomingMessage, project: Project, located: Located, match: Match, query: URLSearchParams | null, at: number): Admission | Promise<Admission> {
    const open = match.route.open?.some((p) => match.rest === p || match.rest.startsWith(`${p}/`) || match.rest.startsWith(`${p}?`));
    const apikey = req.headers.apikey;
    const token = match.route.key === 'required' && !open ? tokenFrom(req, query) : typeof apikey === 'string' ? apikey : null;
    if (match.route.key === 'required' && !open && !token) throw new Reject(401, 'No API key found in request');
    // platform tokens (bsp_) and AI keys (bsk_) are not JWTs: the service they reach verifies them itself;
    // opaque API keys are checked, and swapped for the project's JWT, below
    if (token && !token.startsWith('bsp_') && !token.startsWith('bsk_') && !isOpaqueKey(token) && !keyIsValid(project, token)) throw new Reject(401, 'Invalid authentication credentials');
    let swap: Swap | null;
    try {
      swap = swapOpaqueKeys(project, req, match.path);
    } catch (e) {
      if (e instanceof OpaqueKeyError) throw new Reject(401, e.message);
      throw e;
    }
    const own = typeof project.settings.rate_limit_rps === 'number' ? project.settings.rate_limit_rps : config.RATE_LIMIT_RPS;
    // the plan's requests_per_second caps what the project's own settings ask for
    const quota = project.quotas.requests_per_second;
    const limit = capped(own, quota);
    const allowed = limiter.take(project.ref, limit, 1, at);
    if (allowed === true) return admitted(project, located, swap, at);
    if (allowed === false) throw tooMany(match, limit, own, quota);
    return allowed.then((ok) => {
      if (!ok) throw tooMany(match, limit, own, quota);
      return admitted(project, located, swap, at);
    });
  }

  function tooMany(match: Match, limit: number, own: number, quota: number | null): Reject {
    const headers = ['retry-after', '1', 'x-ratelimit-limit', String(limit), 'x-ratelimit-remaining', '0', 'x-ratelimit-reset', '1'];
    if (quota === null || quota > own) return new Reject(429, 'Too many requests', headers);
    const message = `Too many requests: the project's plan allows ${quota} requests per second (requests_per_second)`;
    return new Reject(429, message, headers, quotaErrorBody(match.route.service, match.path, 429, 'requests_per_second', message));
  }

  function admitted(project: Project, located: Located, swap: Swap | null, at: number): Admission | Promise<Admission> {
    deps.activity?.touch(project.ref, at);
    const admission = { project, located, swap, at };
    // a sleeping project is woken first: the request waits for it, and goes on even if waking failed
    if (project.sleeping && deps.activity) return deps.activity.awake(project).then(() => admission);
    return admission;
  }

  /** the headers the gateway sets on a forwarded request, [name, value, …], then any an opaque key's swap replaces */
  function ours(req: IncomingMessage, id: string, located: Located, ref: string | null, swap: Swap | null): string[] {
    const h = ['x-request-id', id, 'x-forwarded-for', req.socket.remoteAddress ?? '', 'x-forwarded-proto', proto, 'x-basalt-base-url', baseUrlFor(located, ref)];
    if (req.headers.host) h.push('x-forwarded-host', req.headers.host);
    if (ref) h.push('x-basalt-ref', ref);
    if (swap) for (const name in swap.headers) h.push(name, swap.headers[name]);
    return h;
  }

  function ownEndpoint(req: IncomingMessage, path: string, res: ServerResponse, extra: string[]): boolean {
    if (path === '/health') return sendJson(res, 200, { status: 'ok', service: 'gateway' }, extra), true;
    if (path === '/ready') {
      if (draining) return sendJson(res, 503, { status: 'draining' }, extra), true;
      deps.ready().then(
        () => sendJson(res, 200, { status: 'ready' }, extra),
        (err: Error) => sendJson(res, 503, { status: 'unavailable', message: err.message }, extra),
      );
      return true;
    }
    // Metrics describe the whole fleet's traffic: only for a scraper holding the operator's token.
    if (path === '/metrics' && config.BASALT_METRICS_TOKEN && req.headers.authorization === `Bearer ${config.BASALT_METRICS_TOKEN}`) {
      registryMetrics.metrics().then((body) => {
        res.writeHead(200, [...extra, 'content-type', registryMetrics.contentType]);
        res.end(body);
      }).catch((err: unknown) => crashed(req, res, err));
      return true;
    }
    return false;
  }

  /** A preflight for a project whose settings list the origin is answered with credentials; any other, without. */
  async function preflight(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const located = locateSync(req, url.split('?')[0], config.BASALT_DOMAIN);
    const ref = located.ref ?? (await locateSlow(req, located, config.BASALT_DOMAIN, registry, null).catch(() => located)).ref;
    const project = ref ? registry.peek(ref) ?? (await registry.get(ref).catch(() => null)) : null;
    answerPreflight(req, res, project ? corsFor(req, project) : corsHeaders(req));
  }

  /** what a forwarded request needs once its response has ended: its metrics, access log line and metering */
  class Forwarding implements RawForward {
    constructor(
      readonly req: IncomingMessage, readonly res: ServerResponse, readonly match: Match, readonly ref: string | null,
      readonly id: string, readonly started: number, readonly at: number,
      readonly pool: UpstreamPool, readonly path: string, readonly headers: string, readonly responseHeaders: string[],
      /** a published asset's path, kept in the asset cache if storage marks the answer shared */
      readonly asset: string | null,
      /** an asset admin write: the project's kept assets go once it is answered */
      readonly changesAssets: boolean,
    ) {}

    get timeoutMs(): number {
      return this.match.route.timeoutMs ?? config.UPSTREAM_TIMEOUT_MS;
    }

    get keepBytes(): number {
      return this.asset === null ? 0 : assets!.keepBytes;
    }

    keep(head: string[], body: Buffer): void {
      assets!.keep(this.ref!, this.asset!, this.started, head, body);
    }

    onDone(status: number, bytes: number, named: string | null): void {
      if (this.changesAssets) assets!.drop(this.ref!);
      record(this.req, this.match, this.id, this.started, status, this.ref);
      metered?.exchange(this.match, this.ref, named, status, bytes, this.at);
    }

    onAbort(bytes: number, named: string | null): void {
      metered?.exchange(this.match, this.ref, named, 499, bytes, this.at);
    }

    onFail(status: UpstreamFailure): void {
      sendUpstreamFailure(this.res, status, this.match.route.service, this.match.path, this.responseHeaders);
      record(this.req, this.match, this.id, this.started, status, this.ref);
    }
  }

  function record(req: IncomingMessage, match: Match, id: string, started: number, status: number, ref: string | null): void {
    const ms = performance.now() - started;
    duration.observe(match.route.service, status, ms / 1e3);
    if (config.ACCESS_LOG) log.info({ reqId: id, ref, method: req.method, path: match.path.split('?')[0], status, ms }, 'request');
  }

  function forward(req: IncomingMessage, res: ServerResponse, admission: Admission, match: Match, id: string, extra: string[], started: number): void {
    const { project, located: where, swap, at } = admission;
    const ref = project?.ref ?? where.ref;
    let headers = project && req.headers.origin ? [...corsFor(req, project), 'x-request-id', id] : extra;
    // A site read on the shared origin (path prefix or bare host) runs sandboxed, in an opaque origin: every
    // project's site shares that origin, so one project's script must not reach another's storage or cookies.
    const site = match.route === SITE_ROUTE || match.route.prefix === '/assets/v1';
    if (site && where.via !== 'subdomain' && where.via !== 'domain') headers = [...headers, 'content-security-policy', SHARED_ORIGIN_SANDBOX];
    const read = req.method === 'GET' || req.method === 'HEAD';
    // a published file (storage ignores the query): answered from the asset cache when kept there
    const asset = assets && project && site && read && req.headers.range === undefined ? match.path.split('?', 1)[0]! : null;
    if (asset !== null) {
      const kept = assets!.get(project!.ref, asset);
      if (kept) {
        const { status, bytes } = assets!.answer(req, res, kept, headers);
        record(req, match, id, started, status, ref);
        return void metered?.exchange(match, ref, null, status, bytes, at);
      }
    }
    const changesAssets = assets !== null && project !== null && !read && match.route.prefix === '/assets/admin/v1';
    const lines = headerLines(req, ours(req, id, where, ref, swap));
    const pool = pools.get(match.route.service)!;
    rawForward(req, res, new Forwarding(req, res, match, ref, id, started, at, pool, swap?.path ?? match.path, lines, headers, asset, changesAssets));
  }

  function refuse(req: IncomingMessage, res: ServerResponse, err: unknown, match: Match, id: string, extra: string[], started: number, ref: string | null): void {
    if (err instanceof Reject) {
      sendJson(res, err.status, err.body ?? { message: err.message }, [...extra, ...err.headers]);
      return record(req, match, id, started, err.status, ref);
    }
    log.error({ err, reqId: id }, 'gateway failure');
    sendUpstreamFailure(res, 503, match.route.service, match.path, extra);
    record(req, match, id, started, 503, ref);
  }

  /**
   * A fault of the gateway's own (a bug, never a client's bad input): logged, and the client answered as Kong
   * answers one, or cut off if its answer had begun. Thrown from a request listener or left as a rejected promise,
   * it would end the process and every tenant's requests in flight with it.
   */
  function crashed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    log.error({ err, method: req.method, path: req.url?.split('?')[0] }, 'gateway fault');
    if (res.headersSent || res.writableEnded) return void res.destroy();
    sendJson(res, 500, { message: 'An unexpected error occurred' });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      route(req, res);
    } catch (err) {
      crashed(req, res, err);
    }
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const id = requestIdOf(req);
    const extra = [...corsHeaders(req), 'x-request-id', id];
    if (isPreflight(req)) return void preflight(req, res).catch((err: unknown) => crashed(req, res, err));
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const search = qi < 0 ? '' : url.slice(qi);
    if (ownEndpoint(req, path, res, extra)) return;
    if (mayTraverse(path) && TRAVERSAL.test(path)) return sendJson(res, 400, { message: 'Invalid path' }, extra);

    const host = hostName(req);
    const read = req.method === 'GET' || req.method === 'HEAD';
    // cdn.<domain>/<ref>/<bucket>/<path> is the CDN's own host: the same reads as /cdn/<ref>/…, no project from the host
    const located: Located = read && host === cdnHost ? { ref: null, via: null, path: `/cdn${path}` } : locateSync(req, path, config.BASALT_DOMAIN, host);
    let match = read && located.ref === null && isBaseHost(host, config.BASALT_DOMAIN) ? cdnMatch(located.path, search) ?? studioMatch(located.path, search) : null;
    match ??= matchRoute(located.path, search);
    if (!match && read && (located.ref !== null || !isBaseHost(host, config.BASALT_DOMAIN))) {
      match = siteMatch(located.path, search);
    }
    if (!match) return sendJson(res, 404, { message: 'No route matched' }, extra);
    const query = search.includes('apikey=') ? new URLSearchParams(search) : null;

    let admission: Admission | Promise<Admission>;
    try {
      admission = admit(req, located, match, query, Date.now());
    } catch (err) {
      return refuse(req, res, err, match, id, extra, started, located.ref);
    }
    if (!(admission instanceof Promise)) return forward(req, res, admission, match, id, extra, started);
    admission.then(
      (a) => forward(req, res, a, match, id, extra, started),
      (err: unknown) => refuse(req, res, err, match, id, extra, started, located.ref),
    ).catch((err: unknown) => crashed(req, res, err));
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const search = qi < 0 ? '' : url.slice(qi);
    const located = locateSync(req, path, config.BASALT_DOMAIN);
    const match = TRAVERSAL.test(path) ? null : matchRoute(located.path, search);
    const refuse = (status: number, message: string) => {
      const body = JSON.stringify({ message });
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 429 ? 'Too Many Requests' : 'Not Found'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    if (!match) return refuse(404, 'No route matched');
    const id = newRequestId();
    Promise.resolve().then(() => admit(req, located, match, new URLSearchParams(search), Date.now())).then(
      ({ project, located: where, swap }) => {
        const ref = project?.ref ?? where.ref;
        // an open WebSocket keeps its project awake (its frames never pass through handle())
        if (project && deps.activity) socket.once('close', deps.activity.hold(project.ref));
        if (ref) metered?.tunnel(match, ref, socket as Socket);
        tunnels.add(socket);
        socket.once('close', () => tunnels.delete(socket));
        tunnel(req, socket, head, targets[match.route.service], swap?.path ?? match.path, upgradeHeaders(req, ours(req, id, where, ref, swap)));
      },
      (err: unknown) => (err instanceof Reject ? refuse(err.status, err.message) : refuse(404, 'Service unavailable')),
    ).catch((err: unknown) => {
      log.error({ err, path }, 'gateway fault');
      socket.destroy();
    });
  }

  return {
    handle,
    upgrade,
    setDraining: () => void (draining = true),
    /**
     * The drain's start: every tunnel is cut. A byte tunnel cannot send a WebSocket close of its own (it does not
     * know where the frames it carries end), and left open the tunnels would hold the exit for the full timeout.
     */
    closeTunnels: async () => {
      for (const s of tunnels) s.destroy();
    },
    close: () => {
      for (const p of pools.values()) p.destroy();
    },
  };
}
