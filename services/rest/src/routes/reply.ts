// The HTTP edges of the pipeline: a Fastify request → the parse stage's input, and a Response → the reply.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpRequest } from '../domain/parse.js';
import type { Response } from '../domain/respond.js';

export const PREFIX = '/rest/v1';

export function httpRequest(req: FastifyRequest): HttpRequest {
  const i = req.url.indexOf('?');
  const pathname = i < 0 ? req.url : req.url.slice(0, i);
  return {
    method: req.method,
    // request.path as PostgREST sees it: below the mount point
    path: pathname.startsWith(PREFIX) ? pathname.slice(PREFIX.length) || '/' : pathname,
    search: i < 0 ? '' : req.url.slice(i + 1),
    headers: req.headers,
    body: req.body,
  };
}

export function send(req: FastifyRequest, reply: FastifyReply, r: Response): FastifyReply {
  if (req.rest.profile) reply.header('content-profile', req.rest.profile);
  reply.headers(r.headers).code(r.status);
  if (r.body === null) return reply.send();
  return reply.type(r.type).send(r.body);
}
