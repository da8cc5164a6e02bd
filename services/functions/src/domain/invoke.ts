// One invocation: check verify_jwt and rate limits, find (or boot) the version's isolate, stream the request
// in and the response out under the wall-time limit, and log status, duration and console output.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { SecretBox } from '@basalt/crypto';
import { authenticate, AuthError, requestToken, type Project } from '@basalt/tenancy';
import type { ActiveFunction, FunctionsDb } from '../db/functions.js';
import { fnErrors } from '../errors.js';
import type { Isolates } from '../runtime/isolates.js';

export interface InvokeDeps {
  db: FunctionsDb;
  redis: Redis;
  secrets: SecretBox;
  isolates: Isolates;
  redisPrefix: string;
  limits: { projectRps: number; functionRps: number; memoryMb: number };
}

const DROP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);

export interface Invocation {
  status: number;
  headers: [string, string][];
  body: Readable | null;
}

export function invoker(d: InvokeDeps) {
  async function rateLimit(project: Project, slug: string): Promise<void> {
    const s = (project.settings.functions ?? {}) as { rps?: number; function_rps?: number };
    const second = Math.floor(Date.now() / 1000);
    const pk = `${d.redisPrefix}fn:rl:${project.ref}:${second}`;
    const fk = `${pk}:${slug}`;
    const [[, p], , [, f]] = (await d.redis.multi().incr(pk).expire(pk, 2).incr(fk).expire(fk, 2).exec()) as [unknown, number][];
    if (p > (s.rps ?? d.limits.projectRps) || f > (s.function_rps ?? d.limits.functionRps)) throw fnErrors.rateLimited();
  }

  async function isolateFor(project: Project, fn: ActiveFunction, baseUrl: string) {
    const key = `${project.ref}/${fn.slug}/${fn.active_version}/${fn.secrets_version}`;
    const isolate = await d.isolates.get(key, async () => {
      const code = await d.db.code(project.ref, fn.slug, fn.active_version);
      if (code === null) throw new Error('version not found');
      const env: Record<string, string> = {};
      for (const s of await d.db.secrets(project.ref)) env[s.name] = d.secrets.decrypt(s.value_enc);
      Object.assign(env, { SUPABASE_URL: baseUrl, BASALT_URL: baseUrl, SUPABASE_ANON_KEY: project.anonKey, BASALT_PROJECT_REF: project.ref });
      // The service_role key bypasses RLS: only functions that opted in get it.
      if (fn.allow_service_role) env.SUPABASE_SERVICE_ROLE_KEY = project.serviceKey;
      return { code, env };
    }).catch((e: Error) => {
      throw fnErrors.boot(e.message.split('\n')[0]);
    });
    return { key, isolate };
  }

  return async function invoke(project: Project, slug: string, rest: string, req: IncomingMessage, baseUrl: string): Promise<Invocation> {
    const fn = await d.db.active(project.ref, slug);
    if (!fn) throw fnErrors.notFound(slug);
    if (fn.verify_jwt) {
      try {
        authenticate(project, requestToken(req.headers));
      } catch (e) {
        if (e instanceof AuthError) throw e.reason === 'missing' ? fnErrors.missingAuth() : fnErrors.invalidJwt();
        throw e;
      }
    }
    await rateLimit(project, slug);
    const { key, isolate } = await isolateFor(project, fn, baseUrl);

    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP.has(k) && !k.startsWith('x-basalt-')) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(fnErrors.timeout(fn.timeout_ms)), fn.timeout_ms);
    });
    const log = (status: number, logs: string, error: string | null) =>
      void d.db.logInvocation({ ref: project.ref, slug, version: fn.active_version, method: req.method ?? 'GET', status, durationMs: performance.now() - started, logs, error }).catch(() => undefined);
    try {
      const res = await Promise.race([
        isolate.mf.dispatchFetch(`${new URL(baseUrl).origin}/${slug}${rest}`, {
          method: req.method,
          headers,
          body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
          duplex: hasBody ? 'half' : undefined,
        } as never),
        timeout,
      ]);
      const raw = res.headers.get('x-basalt-logs');
      const logs = raw ? (JSON.parse(decodeURIComponent(raw)) as string[]).join('\n') : '';
      log(res.status, logs, res.status >= 500 ? logs.split('\n').find((l) => l.startsWith('[error]')) ?? null : null);
      const out: [string, string][] = [];
      res.headers.forEach((v: string, k: string) => {
        if (k !== 'x-basalt-logs' && !DROP.has(k) && k !== 'content-encoding') out.push([k, v]);
      });
      return { status: res.status, headers: out, body: res.body ? Readable.fromWeb(res.body as never) : null };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (err.code === 'function_timeout') {
        d.isolates.dispose(key, 'timeout'); // the runaway isolate is killed; the next call boots a fresh one
        log(504, '', err.message ?? 'timeout');
        throw e;
      }
      if (isolate.killedFor === 'memory') {
        log(546, '', 'memory limit');
        throw fnErrors.memory(d.limits.memoryMb);
      }
      log(503, '', err.message ?? String(e));
      throw fnErrors.boot(err.message ?? String(e));
    } finally {
      clearTimeout(timer);
    }
  };
}
