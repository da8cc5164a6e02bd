// One invocation: check verify_jwt and rate limits, find (or boot) the version's isolate, stream the request
// in and the response out under the wall-time limit, and log status, duration and console output.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { Cancel, InvalidResponse, type UpstreamResponse } from '@basalt/upstream';
import type { Redis } from 'ioredis';
import { BasaltError } from '@basalt/errors';
import type { Meter } from '@basalt/metering';
import { RateLimiter } from '@basalt/rate-limit';
import type { SecretBox } from '@basalt/crypto';
import { authenticate, AuthError, capped, requestToken, type Project } from '@basalt/tenancy';
import type { ActiveFunction, FunctionsDb } from '../db/functions.js';
import type { ActiveCache } from './active-cache.js';
import { functionEnv, mergedEnv, openSecrets } from './env.js';
import { fnErrors } from '../errors.js';
import { passUpTo } from '../runtime/byte-limit.js';
import { RuntimeError, type IsolateSpec, type Runtimes } from '../runtime/runtimes.js';
import type { RemotePublisher } from '../remote/publish.js';

export interface InvokeDeps {
  db: FunctionsDb;
  active: ActiveCache;
  redis: Redis;
  secrets: SecretBox;
  runtimes: Runtimes;
  /** a Cloudflare-target project's invocations go to its dispatch Worker instead (remote/publish.ts) */
  remote?: Pick<RemotePublisher, 'dispatcher'>;
  redisPrefix: string;
  onRateLimitError?: (err: Error) => void;
  /** usage per project per hour: invocations and their wall time */
  meter?: Meter;
  limits: {
    projectRps: number;
    functionRps: number;
    memoryMb: number;
    cpuMs: number;
    requestBytes: number;
    responseBytes: number;
    /** invocations of one project running at once */
    projectConcurrency: number;
  };
}

const DROP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);

/**
 * A call from the scheduler: a token the project signed (so no client can mint one without its secret) with the
 * anon role and the run it belongs to. The scheduler never holds out the service key itself.
 */
const isCronCall = (claims: Record<string, unknown> | null) => claims?.role === 'anon' && typeof claims.cron_run === 'string';

function tryClaims(project: Project, token: string | null): Record<string, unknown> | null {
  if (!token) return null;
  try {
    return authenticate(project, token).claims;
  } catch {
    return null;
  }
}

export interface Invocation {
  status: number;
  headers: [string, string][];
  body: Buffer | Readable | null;
}

/** The request body as the function will read it, cut off (413) past max bytes. */
function limitBody(req: IncomingMessage, max: number, deadline: Cancel): Readable {
  return passUpTo(req, max, (out) => {
    req.resume(); // the rest is read and dropped, so the connection can carry the next request
    deadline.abort(fnErrors.tooLarge('request', max));
    out.destroy();
  });
}

/** The response body streamed on, ended early past max bytes (the head has gone out by then). */
function capBody(res: Readable, max: number): Readable {
  const out = passUpTo(res, max, (o) => {
    res.destroy();
    o.destroy(new Error(`response larger than ${max} bytes`));
  });
  res.on('error', (e) => out.destroy(e));
  // the client went away (Fastify destroys what it was sending): the function's stream, and with it the
  // invocation's connection and slot, goes too; piped on, it would wait paused for a reader forever
  out.once('close', () => res.destroy());
  return out;
}

/**
 * The console lines the prelude put in x-basalt-logs. The header comes out of the tenant's isolate, which can
 * write anything there: what is not the prelude's encoded JSON array is logged as the text it is.
 */
function logLines(raw: string | undefined): string {
  if (typeof raw !== 'string') return '';
  try {
    const lines: unknown = JSON.parse(decodeURIComponent(raw));
    if (Array.isArray(lines)) return lines.map(String).join('\n');
  } catch {
    /* not the prelude's */
  }
  return raw.slice(0, 4096);
}

async function readSome(res: UpstreamResponse, max: number): Promise<string> {
  if (res.whole) return res.whole.toString('utf8', 0, max);
  let text = '';
  for await (const chunk of res.stream!) if (text.length < max) text += String(chunk);
  return text.slice(0, max);
}

export function invoker(d: InvokeDeps) {
  /** bumped when an isolate timed out, failed to boot or lost its process, so the next call loads a fresh one */
  const generations = new Map<string, number>();
  const concurrency = new Map<string, number>();
  // the shared limiter: one Redis script, and a Redis outage fails open in bounded time instead of a 500
  const limiter = new RateLimiter(d.redis, { prefix: d.redisPrefix, onError: d.onRateLimitError });
  /**
   * The invocation's limits in order: the project's per-second budget, the function's, then the plan's
   * fn_invocations_per_day (a counter per project and UTC day: the invocation log is pruned by count, so it cannot
   * count a busy day). Each is leased from Redis in slices (as the gateway's), so most invocations ask Redis nothing
   * and get no promise here; every limit fails open like the rest.
   */
  const LIMITS = 3;
  function take(project: Project, slug: string, limit: number): boolean | Promise<boolean> {
    const s = (project.settings.functions ?? {}) as { rps?: number; function_rps?: number };
    if (limit === 0) return limiter.take(`fn:${project.ref}`, s.rps ?? d.limits.projectRps);
    if (limit === 1) return limiter.take(`fn:${project.ref}:${slug}`, s.function_rps ?? d.limits.functionRps);
    const quota = project.quotas.fn_invocations_per_day;
    return quota === null || limiter.take(`fn:day:${project.ref}`, quota, 86_400);
  }
  function refused(project: Project, limit: number): BasaltError {
    if (limit < 2) return fnErrors.rateLimited();
    const quota = project.quotas.fn_invocations_per_day!;
    return fnErrors.invocationQuota(quota, Math.max(1, 86_400 - (Math.floor(Date.now() / 1000) % 86_400)));
  }
  /** The limits from `from` on: throws at the first refusal; a promise only once one has to wait for Redis. */
  function admit(project: Project, slug: string, from = 0): void | Promise<void> {
    for (let limit = from; limit < LIMITS; limit++) {
      const granted = take(project, slug, limit);
      if (granted === true) continue;
      if (granted === false) throw refused(project, limit);
      return granted.then((ok) => {
        if (!ok) throw refused(project, limit);
        return admit(project, slug, limit + 1);
      });
    }
  }

  /** the origin of a project's base URL (a function sees its request under it), parsed once per base URL */
  const origins = new Map<string, string>();
  const originOf = (baseUrl: string): string => {
    let origin = origins.get(baseUrl);
    if (origin === undefined) {
      if (origins.size >= 10_000) origins.clear();
      origins.set(baseUrl, (origin = new URL(baseUrl).origin));
    }
    return origin;
  };

  /** The isolate's spec, read only when a process has not loaded this version yet. */
  const specFor = (project: Project, fn: ActiveFunction, baseUrl: string) => async (): Promise<IsolateSpec> => {
    const code = await d.db.code(project.ref, fn.slug, fn.active_version);
    if (code === null) throw new Error('version not found');
    return { code, env: mergedEnv(functionEnv(project, fn, baseUrl, await openSecrets(d.db, d.secrets, project.ref))) };
  };

  /** `reply`: the client's response, whose early close (the client gone) cancels the invocation */
  return async function invoke(project: Project, slug: string, rest: string, req: IncomingMessage, baseUrl: string, reply?: ServerResponse): Promise<Invocation> {
    const cached = d.active.peek(project.ref, slug);
    const fn = cached === undefined ? await d.active.get(project.ref, slug) : cached;
    if (!fn) throw fnErrors.notFound(slug);
    let cronRun = false;
    if (fn.verify_jwt) {
      try {
        cronRun = isCronCall(authenticate(project, requestToken(req.headers)).claims);
      } catch (e) {
        if (e instanceof AuthError) throw e.reason === 'missing' ? fnErrors.missingAuth() : fnErrors.invalidJwt();
        throw e;
      }
    } else {
      cronRun = isCronCall(tryClaims(project, requestToken(req.headers)));
    }
    const admitted = admit(project, slug);
    if (admitted) await admitted;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > d.limits.requestBytes) throw fnErrors.tooLarge('request', d.limits.requestBytes);
    const running = concurrency.get(project.ref) ?? 0;
    if (running >= d.limits.projectConcurrency) throw fnErrors.busy(d.limits.projectConcurrency);
    concurrency.set(project.ref, running + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (concurrency.get(project.ref) ?? 1) - 1;
      if (n <= 0) concurrency.delete(project.ref);
      else concurrency.set(project.ref, n);
    };

    const version = `${project.ref}/${fn.slug}/${fn.active_version}/${fn.secrets_version}`;
    const isolate = `${version}#${generations.get(version) ?? 0}`;
    const headers: Record<string, string> = {};
    for (const k in req.headers) {
      const v = req.headers[k];
      if (v !== undefined && !DROP.has(k) && !k.startsWith('x-basalt-')) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    // Cron calls arrive with an anon-role token; a function that opted into the service role sees its key instead.
    if (cronRun && fn.allow_service_role) {
      headers.authorization = `Bearer ${project.serviceKey}`;
      headers.apikey = project.serviceKey;
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    if (hasBody && req.headers['content-length'] !== undefined) headers['content-length'] = String(declared);
    const started = performance.now();
    const log = (status: number, logs: string, error: string | null) => {
      const durationMs = performance.now() - started;
      d.meter?.count(project.ref, 'functions', 'fn_invocations');
      d.meter?.count(project.ref, 'functions', 'fn_duration_ms', durationMs);
      void d.db.logInvocation({ ref: project.ref, slug, version: fn.active_version, method: req.method ?? 'GET', status, durationMs, logs, error }).catch(() => undefined);
    };
    // the invocation's deadline: the wall-time timer or a body past its limit cancels it
    const deadline = new Cancel();
    // the plan's fn_wall_ms caps the function's own timeout
    const wallMs = capped(fn.timeout_ms, project.quotas.fn_wall_ms);
    // and its fn_cpu_ms the runtime's CPU watchdog
    const cpuMs = capped(d.limits.cpuMs, project.quotas.fn_cpu_ms);
    const timer = setTimeout(() => deadline.abort(fnErrors.timeout(wallMs)), wallMs);
    // A client that goes away cancels the invocation (its connection to the isolate closes, and workerd cancels
    // the request there), so a function that never answers holds its slot no longer than its caller waits.
    const gone = () => {
      if (!reply!.writableFinished) deadline.abort(fnErrors.clientClosed());
    };
    reply?.once('close', gone);
    try {
      const body = hasBody ? limitBody(req, d.limits.requestBytes, deadline) : null;
      const dispatch = {
        isolate, version, ref: project.ref, spec: specFor(project, fn, baseUrl),
        url: `${originOf(baseUrl)}/${slug}${rest}`, method: req.method ?? 'GET', headers, body,
        cpuMs,
      };
      // where an invocation runs: a local workerd process, or the project's remote target
      const remote = d.remote?.dispatcher(project, fn.slug);
      const res = await (remote ? remote(dispatch, deadline) : d.runtimes.dispatch(dispatch, deadline));
      clearTimeout(timer);
      const status = res.status;
      const logs = logLines(res.headers['x-basalt-logs']);
      const runtimeError = res.headers['x-basalt-runtime-error'];
      if (runtimeError !== undefined) {
        // the isolate could not start or did not finish: the dispatcher's relay error, logged with its reason
        const text = await readSome(res, 4096);
        release();
        const message = (() => { try { return String(JSON.parse(text).message); } catch { return text; } })();
        if (runtimeError === 'function_boot_failed') generations.set(version, (generations.get(version) ?? 0) + 1);
        log(status, logs, message);
        throw runtimeError === 'function_boot_failed' ? fnErrors.boot(message.split('\n')[0]) : fnErrors.failed(message.split('\n')[0]);
      }
      log(status, logs, status >= 500 ? logs.split('\n').find((l) => l.startsWith('[error]')) ?? null : null);
      const declaredOut = Number(res.headers['content-length'] ?? 0);
      if (declaredOut > d.limits.responseBytes) {
        res.stream?.destroy();
        release();
        throw fnErrors.tooLarge('response', d.limits.responseBytes);
      }
      const out: [string, string][] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const k = res.rawHeaders[i].toLowerCase();
        if (k !== 'x-basalt-logs' && !DROP.has(k)) out.push([k, res.rawHeaders[i + 1]]);
      }
      const empty = req.method === 'HEAD' || status === 204 || status === 304;
      // a small answer came whole: the invocation is over
      if (!res.stream) {
        release();
        if (!empty && res.whole!.length > d.limits.responseBytes) throw fnErrors.tooLarge('response', d.limits.responseBytes);
        return { status, headers: out, body: empty ? null : res.whole };
      }
      res.stream.once('close', release);
      if (empty) res.stream.resume();
      // a declared length within the limit frames the body itself, and goes on to the client (no re-chunking on
      // the way): only a chunked body is counted as it streams
      const framed = res.headers['content-length'] !== undefined;
      if (framed && !empty) out.push(['content-length', String(declaredOut)]);
      return { status, headers: out, body: empty ? null : framed ? res.stream : capBody(res.stream, d.limits.responseBytes) };
    } catch (e) {
      clearTimeout(timer);
      release();
      if (e instanceof BasaltError) {
        if (e.code === 'function_timeout') {
          // the next call gets a fresh isolate; a process stuck in this one's loop is killed
          generations.set(version, (generations.get(version) ?? 0) + 1);
          void d.runtimes.checkAfterTimeout(isolate);
          log(504, '', e.message);
        } else if (e.code === 'payload_too_large' || e.code === 'response_too_large' || e.code === 'client_closed') log(e.status, '', e.message);
        throw e;
      }
      if (e instanceof InvalidResponse) {
        // the function answered with what cannot be sent on (a head past 64 KB): its fault, run once
        log(502, '', e.message);
        throw fnErrors.failed(`its answer could not be read: ${e.message}`);
      }
      if (e instanceof RuntimeError) {
        generations.set(version, (generations.get(version) ?? 0) + 1);
        if (e.innocent) {
          // another isolate brought the process down while this one ran (or waited): not its limit
          log(503, '', e.message);
          throw fnErrors.crashed(e.message);
        }
        if (e.reason === 'memory') {
          log(546, '', 'memory limit');
          throw fnErrors.memory(d.limits.memoryMb);
        }
        if (e.reason === 'cpu') {
          log(546, '', 'CPU time limit');
          throw fnErrors.cpu(cpuMs);
        }
        log(503, '', e.message);
        throw fnErrors.crashed(e.message);
      }
      const message = (e as Error).message ?? String(e);
      log(503, '', message);
      throw fnErrors.boot(message);
    }
  };
}
