// The AI management API, delegated by the gateway under /platform/v1/projects/:ref/ai:
//   POST|GET /providers, GET|PATCH|DELETE /providers/:name     {name, type, base_url?, api_key?, timeout_ms?}; keys never returned
//   GET|PUT  /routes                                           {routes: [{model, provider, upstream_model?, fallbacks?}]}
//   POST|GET /keys, DELETE /keys/:id                           {name, limits?} → 201 {id, name, key, prefix, limits, …} (key shown once)
//   GET|PUT  /settings                                         {user_access: {enabled, tokens_per_day?}}
//   GET      /usage?from&to&group_by=day|model|key|user&format=csv&limit
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { CreateKey, CreateProvider, PutRoutes, PutSettings, UpdateProvider, type ManageDomain } from '../domain/manage.js';
import { UsageQuery, type UsageReport } from '../domain/usage-report.js';

const ProviderName = z.object({ ref: z.string(), name: z.string() });
const KeyId = z.object({ ref: z.string(), id: z.string() });

export const manageRoutes = (manage: ManageDomain, usage: UsageReport) => [
  defineRoute({ method: 'GET', url: '/providers', handler: (req) => manage.listProviders(req.ref) }),
  defineRoute({
    method: 'POST', url: '/providers', schema: { body: CreateProvider },
    handler: async (req, reply) => reply.code(201).send(await manage.createProvider(req.ref, req.body)),
  }),
  defineRoute({ method: 'GET', url: '/providers/:name', schema: { params: ProviderName }, handler: (req) => manage.getProvider(req.ref, req.params.name) }),
  defineRoute({
    method: 'PATCH', url: '/providers/:name', schema: { params: ProviderName, body: UpdateProvider },
    handler: (req) => manage.updateProvider(req.ref, req.params.name, req.body),
  }),
  defineRoute({
    method: 'DELETE', url: '/providers/:name', schema: { params: ProviderName },
    handler: async (req, reply) => {
      await manage.removeProvider(req.ref, req.params.name);
      return reply.code(204).send();
    },
  }),
  defineRoute({ method: 'GET', url: '/routes', handler: (req) => manage.listRoutes(req.ref) }),
  defineRoute({ method: 'PUT', url: '/routes', schema: { body: PutRoutes }, handler: (req) => manage.putRoutes(req.ref, req.body) }),
  defineRoute({ method: 'GET', url: '/keys', handler: (req) => manage.listKeys(req.ref) }),
  defineRoute({
    method: 'POST', url: '/keys', schema: { body: CreateKey },
    handler: async (req, reply) => reply.code(201).send(await manage.createKey(req.ref, req.body)),
  }),
  defineRoute({ method: 'DELETE', url: '/keys/:id', schema: { params: KeyId }, handler: (req) => manage.revokeKey(req.ref, req.params.id) }),
  defineRoute({ method: 'GET', url: '/settings', handler: (req) => manage.getSettings(req.ref) }),
  defineRoute({ method: 'PUT', url: '/settings', schema: { body: PutSettings }, handler: (req) => manage.putSettings(req.ref, req.body) }),
  defineRoute({
    method: 'GET', url: '/usage', schema: { querystring: UsageQuery },
    handler: async (req, reply) => {
      const r = await usage.report(req.ref, req.query);
      if ('csv' in r) return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="ai-usage.csv"').send(r.csv);
      return r.json;
    },
  }),
];
