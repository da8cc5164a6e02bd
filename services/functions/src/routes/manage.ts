// Platform-API paths the gateway delegates here (platform token with access to the project):
//   POST   /platform/v1/projects/:ref/functions                  deploy {slug, source | files+entrypoint, verify_jwt, import_map, allow_service_role, timeout_ms}
//   GET    /platform/v1/projects/:ref/functions                  list with versions
//   GET    /platform/v1/projects/:ref/functions/:slug            one
//   DELETE /platform/v1/projects/:ref/functions/:slug
//   POST   /platform/v1/projects/:ref/functions/:slug/rollback   {version}
//   GET    /platform/v1/projects/:ref/functions/:slug/logs       invocations, newest first
//   POST|GET|DELETE /platform/v1/projects/:ref/secrets           [{name, value}] | names only | [names]
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { Deploy, Rollback, SetSecrets, UnsetSecrets, type ManageDomain } from '../domain/manage.js';

const Slug = z.object({ slug: z.string() });
// Lenient as it always was: anything that is not a positive number reads as the default.
const LogsQuery = z.object({ limit: z.unknown().transform((v) => Number(v ?? 100) || 100) });

export const manageRoutes = (manage: ManageDomain) => [
  defineRoute({
    method: 'POST', url: '/functions', schema: { body: Deploy },
    handler: async (req, reply) => reply.code(201).send(await manage.deploy(req.ref, req.body)),
  }),
  defineRoute({ method: 'GET', url: '/functions', handler: (req) => manage.list(req.ref) }),
  defineRoute({ method: 'GET', url: '/functions/:slug', schema: { params: Slug }, handler: (req) => manage.get(req.ref, req.params.slug) }),
  defineRoute({
    method: 'DELETE', url: '/functions/:slug', schema: { params: Slug },
    handler: async (req) => {
      await manage.remove(req.ref, req.params.slug);
      return { slug: req.params.slug, deleted: true };
    },
  }),
  defineRoute({
    method: 'POST', url: '/functions/:slug/rollback', schema: { params: Slug, body: Rollback },
    handler: (req) => manage.rollback(req.ref, req.params.slug, req.body.version),
  }),
  defineRoute({
    method: 'GET', url: '/functions/:slug/logs', schema: { params: Slug, querystring: LogsQuery },
    handler: (req) => manage.logs(req.ref, req.params.slug, req.query.limit),
  }),
  defineRoute({
    method: 'POST', url: '/secrets', schema: { body: SetSecrets },
    handler: async (req, reply) => {
      await manage.setSecrets(req.ref, req.body);
      return reply.code(201).send(await manage.listSecrets(req.ref));
    },
  }),
  defineRoute({ method: 'GET', url: '/secrets', handler: (req) => manage.listSecrets(req.ref) }),
  defineRoute({
    method: 'DELETE', url: '/secrets', schema: { body: UnsetSecrets },
    handler: async (req) => {
      await manage.unsetSecrets(req.ref, req.body);
      return manage.listSecrets(req.ref);
    },
  }),
];
