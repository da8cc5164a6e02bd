// /platform/v1/projects/:ref/api-keys, in the shape of Supabase's Management API.
//   GET    …/api-keys[?reveal=true]          [{id, type: legacy | publishable | secret, name, api_key, prefix, …}]
//   POST   …/api-keys {type, name, description?}   201 the new key, in full
//   GET    …/api-keys/:id[?reveal=true]      the key
//   DELETE …/api-keys/:id                    the deleted key; requests with it are refused at once
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { ApiKeysDomain } from '../domain/api-keys.js';

const Ref = z.object({ ref: z.string() });
const RefId = z.object({ ref: z.string(), id: z.string() });
const Reveal = z.object({ reveal: z.enum(['true', 'false']).optional() });
const Create = z.object({
  type: z.enum(['publishable', 'secret']),
  name: z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, 'lower-case letters, digits and underscores, starting with a letter'),
  description: z.string().max(256).nullish(),
}).strict();

export const apiKeyRoutes = (keys: ApiKeysDomain) => [
  defineRoute({ method: 'GET', url: '/projects/:ref/api-keys', schema: { params: Ref, querystring: Reveal }, handler: (req) => keys.list(req.params.ref, req.query.reveal === 'true') }),
  defineRoute({
    method: 'POST', url: '/projects/:ref/api-keys', schema: { params: Ref, body: Create },
    handler: async (req, reply) => reply.code(201).send(await keys.create(req.params.ref, req.body)),
  }),
  defineRoute({ method: 'GET', url: '/projects/:ref/api-keys/:id', schema: { params: RefId, querystring: Reveal }, handler: (req) => keys.get(req.params.ref, req.params.id, req.query.reveal === 'true') }),
  defineRoute({ method: 'DELETE', url: '/projects/:ref/api-keys/:id', schema: { params: RefId }, handler: (req) => keys.remove(req.params.ref, req.params.id) }),
];
