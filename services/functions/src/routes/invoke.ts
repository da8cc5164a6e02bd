// /functions/v1/:slug[/*] — any method, any body streamed to the isolate unread; the project comes from the
// gateway's x-basalt-ref, the caller's JWT is checked by the invoker when the function has verify_jwt (the gateway
// requires no key on this route).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '@basalt/errors';
import { defineRoute, projectBaseUrl, type App } from '@basalt/http';
import type { ProjectRegistry } from '@basalt/tenancy';
import type { invoker } from '../domain/invoke.js';
import { fnErrors } from '../errors.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
// Matched on the raw path, so the sub-path reaches the function still percent-encoded, as the client sent it.
const INVOCATION = /^\/functions\/v1\/([A-Za-z0-9_-]{1,128})(\/.*)?$/;
const SET_ASIDE = Symbol('content-type');

type Held = FastifyRequest['raw'] & { [SET_ASIDE]?: string };

/**
 * Leaves every invocation body unread for the handler to stream. Fastify answers a Content-Type it cannot parse
 * with a 415 before any parser runs; a function receives whatever its client sent, so the header is set aside
 * while Fastify routes the body to the catch-all parser, and put back before the handler forwards the headers.
 */
export function streamBodies(api: App): void {
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', (_req, _payload, done) => done(null));
  api.addHook('onRequest', (req, _reply, done) => {
    const raw = req.raw as Held;
    const type = raw.headers['content-type'];
    if (type !== undefined) {
      raw[SET_ASIDE] = type;
      delete raw.headers['content-type'];
    }
    done();
  });
  api.addHook('preHandler', (req, _reply, done) => {
    const raw = req.raw as Held;
    if (raw[SET_ASIDE] !== undefined) raw.headers['content-type'] = raw[SET_ASIDE];
    done();
  });
}

export function invokeRoutes(invoke: ReturnType<typeof invoker>, registry: ProjectRegistry, publicUrl: string) {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    const m = INVOCATION.exec(path);
    if (!m) throw errors.notFound(`route ${req.method} ${path}`);
    const ref = req.headers['x-basalt-ref'];
    // the registry's cache without a promise in the common case
    const project = typeof ref === 'string' ? (registry.peek(ref) ?? (await registry.get(ref))) : null;
    if (!project) throw fnErrors.projectNotFound();
    const base = projectBaseUrl(req.headers, publicUrl, project.ref);
    const out = await invoke(project, m[1], `${m[2] ?? ''}${q === -1 ? '' : req.url.slice(q)}`, req.raw, base, reply.raw);
    reply.code(out.status);
    for (const [k, v] of out.headers) reply.header(k, v);
    return reply.send(out.body ?? undefined);
  };
  // HEAD is listed itself, so Fastify generates no HEAD twin of the GET route: the function answers HEAD as it likes.
  return [
    defineRoute({ method: [...METHODS], url: '/:slug', handler }),
    defineRoute({ method: [...METHODS], url: '/:slug/*', handler }),
  ];
}
