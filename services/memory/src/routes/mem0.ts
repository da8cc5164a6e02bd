// mem0's platform API as MemoryClient 3.x and 2.x call it, and the same operations under /mem/v1:
//   GET  /v1/ping/                              {status:"ok", org_id, project_id}
//   POST /v3/memories/add/ | /v1/memories/       add (infer, async_mode)         → {results} (v1.0 format: bare list)
//   POST /v3/memories/ | /v2/memories/, GET /v1/memories/?user_id=…              list (v3 always paginated)
//   POST /v3|v2|v1/memories/search/             search {query, filters, top_k, threshold}
//   GET|PUT|DELETE /v1/memories/{id}/, GET /v1/memories/{id}/history/, DELETE /v1/memories/?user_id=…
//   GET  /v1/entities/, DELETE /v2|v1/entities/{type}/{name}/, PUT|DELETE /v1/batch/
//   GET  /v1/event/{id}/, GET /v1/events/, POST /v1/memories/reset/ (two steps)
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { defineRoute, type RouteDef } from '@basalt/http';
import type { AddDomain } from '../domain/add.js';
import { AddBody, BatchDeleteBody, BatchUpdateBody, ListBody, SearchBody, UpdateBody } from '../domain/input.js';
import type { MemoriesDomain } from '../domain/memories.js';
import { page } from '../domain/present.js';
import type { ResetDomain } from '../domain/reset.js';
import type { SearchDomain } from '../domain/search.js';

const IdParam = z.object({ id: z.string() });
const EntityParam = z.object({ type: z.string(), name: z.string() });
const Paging = z.object({ page: z.coerce.number().int().min(1).default(1), page_size: z.coerce.number().int().min(1).max(1000).default(100) }).passthrough();
const ScopeQuery = Paging.extend({ user_id: z.string().optional(), agent_id: z.string().optional(), app_id: z.string().optional(), run_id: z.string().optional() });
const ResetBody = z.object({ confirm: z.string().optional() }).nullable().optional();

export interface Domains {
  memories: MemoriesDomain;
  search: SearchDomain;
  adds: AddDomain;
  reset: ResetDomain;
}

/** 2.x-era paths answer bare lists unless paging was asked for; 3.x paths always use the envelope */
const hasPaging = (req: FastifyRequest) => /[?&]page(_size)?=/.test(req.url);

export function mem0Routes(d: Domains): RouteDef<any>[] {
  const list = (style: 'v1' | 'v3') => async (req: FastifyRequest & { body?: unknown; query: z.infer<typeof ScopeQuery> }) => {
    const { page: n, page_size: size } = req.query;
    const body: ListBody = { ...((req.body as ListBody | undefined) ?? {}) };
    for (const f of ['user_id', 'agent_id', 'app_id', 'run_id'] as const) if (req.query[f]) body[f] = req.query[f];
    const { rows, count } = await d.memories.list(req.memory, body, n, size);
    return style === 'v3' || hasPaging(req) ? page(rows, count, n, size, req.url) : rows;
  };
  const search = (style: 'v1' | 'v3') => async (req: FastifyRequest & { body: SearchBody }) => {
    const results = await d.search.search(req.memory, req.body);
    return style === 'v1' && req.body.output_format !== 'v1.1' ? results : { results };
  };
  const add = (style: 'v1' | 'v3') => async (req: FastifyRequest & { body: AddBody }) => {
    const results = await d.adds.add(req.memory, req.body);
    return style === 'v1' && req.body.output_format === 'v1.0' ? results : { results };
  };

  return [
    defineRoute({ method: 'GET', url: '/v1/ping/', handler: (req) => ({ status: 'ok', org_id: 'basalt', project_id: req.memory.caller.project.ref, user_email: null }) }),
    defineRoute({ method: 'POST', url: '/v3/memories/add/', schema: { body: AddBody }, handler: add('v3') }),
    defineRoute({ method: 'POST', url: '/v1/memories/', schema: { body: AddBody }, handler: add('v1') }),
    defineRoute({ method: 'POST', url: '/v3/memories/', schema: { body: ListBody, querystring: ScopeQuery }, handler: list('v3') }),
    defineRoute({ method: 'POST', url: '/v2/memories/', schema: { body: ListBody, querystring: ScopeQuery }, handler: list('v1') }),
    defineRoute({ method: 'GET', url: '/v1/memories/', schema: { querystring: ScopeQuery }, handler: list('v1') }),
    defineRoute({ method: 'POST', url: '/v3/memories/search/', schema: { body: SearchBody }, handler: search('v3') }),
    defineRoute({ method: 'POST', url: '/v2/memories/search/', schema: { body: SearchBody }, handler: search('v1') }),
    defineRoute({ method: 'POST', url: '/v1/memories/search/', schema: { body: SearchBody }, handler: search('v1') }),
    defineRoute({
      method: 'DELETE', url: '/v1/memories/', schema: { querystring: ScopeQuery },
      handler: (req) => d.memories.removeScope(req.memory, { user_id: req.query.user_id, agent_id: req.query.agent_id, app_id: req.query.app_id, run_id: req.query.run_id }),
    }),
    defineRoute({ method: 'POST', url: '/v1/memories/reset/', schema: { body: ResetBody }, handler: async (req, reply) => {
      const r = await d.reset.reset(req.memory, req.body?.confirm);
      return reply.code('confirm_token' in r ? 202 : 200).send(r);
    } }),
    defineRoute({ method: 'GET', url: '/v1/memories/:id/', schema: { params: IdParam }, handler: (req) => d.memories.get(req.memory, req.params.id) }),
    defineRoute({ method: 'PUT', url: '/v1/memories/:id/', schema: { params: IdParam, body: UpdateBody }, handler: (req) => d.memories.update(req.memory, req.params.id, req.body) }),
    defineRoute({ method: 'DELETE', url: '/v1/memories/:id/', schema: { params: IdParam }, handler: (req) => d.memories.remove(req.memory, req.params.id) }),
    defineRoute({ method: 'GET', url: '/v1/memories/:id/history/', schema: { params: IdParam }, handler: (req) => d.memories.history(req.memory, req.params.id) }),
    defineRoute({
      method: 'GET', url: '/v1/entities/', schema: { querystring: Paging },
      handler: async (req) => {
        const { rows, count } = await d.memories.entities(req.memory, req.query.page, req.query.page_size);
        return page(rows, count, req.query.page, req.query.page_size, req.url);
      },
    }),
    defineRoute({ method: 'DELETE', url: '/v2/entities/:type/:name/', schema: { params: EntityParam }, handler: (req) => d.memories.removeEntity(req.memory, req.params.type, req.params.name) }),
    defineRoute({ method: 'DELETE', url: '/v1/entities/:type/:name/', schema: { params: EntityParam }, handler: (req) => d.memories.removeEntity(req.memory, req.params.type, req.params.name) }),
    defineRoute({ method: 'PUT', url: '/v1/batch/', schema: { body: BatchUpdateBody }, handler: (req) => d.memories.batchUpdate(req.memory, req.body.memories) }),
    defineRoute({ method: 'DELETE', url: '/v1/batch/', schema: { body: BatchDeleteBody }, handler: (req) => d.memories.batchDelete(req.memory, req.body.memories.map((m) => m.memory_id)) }),
    defineRoute({ method: 'GET', url: '/v1/event/:id/', schema: { params: IdParam }, handler: (req) => d.adds.event(req.memory, req.params.id) }),
    defineRoute({ method: 'GET', url: '/v1/events/', schema: { querystring: Paging }, handler: (req) => d.adds.events(req.memory, req.query.page, req.query.page_size) }),
  ];
}

/** the same operations under /mem/v1 (Nubase-style paths), answering 3.x shapes */
export function memV1Routes(d: Domains): RouteDef<any>[] {
  const byUrl = new Map(mem0Routes(d).map((r) => [`${String(r.method)} ${r.url}`, r]));
  const alias = (method: string, url: string, from: string): RouteDef<any> => ({ ...byUrl.get(`${method} ${from}`)!, url });
  return [
    alias('GET', '/mem/v1/ping', '/v1/ping/'),
    alias('POST', '/mem/v1/memories', '/v3/memories/add/'),
    alias('POST', '/mem/v1/memories/list', '/v3/memories/'),
    alias('GET', '/mem/v1/memories', '/v1/memories/'),
    alias('POST', '/mem/v1/memories/search', '/v3/memories/search/'),
    alias('DELETE', '/mem/v1/memories', '/v1/memories/'),
    alias('POST', '/mem/v1/memories/reset', '/v1/memories/reset/'),
    alias('GET', '/mem/v1/memories/:id', '/v1/memories/:id/'),
    alias('PUT', '/mem/v1/memories/:id', '/v1/memories/:id/'),
    alias('DELETE', '/mem/v1/memories/:id', '/v1/memories/:id/'),
    alias('GET', '/mem/v1/memories/:id/history', '/v1/memories/:id/history/'),
    alias('GET', '/mem/v1/entities', '/v1/entities/'),
    alias('DELETE', '/mem/v1/entities/:type/:name', '/v2/entities/:type/:name/'),
    alias('PUT', '/mem/v1/batch', '/v1/batch/'),
    alias('DELETE', '/mem/v1/batch', '/v1/batch/'),
    alias('GET', '/mem/v1/events/:id', '/v1/event/:id/'),
    alias('GET', '/mem/v1/events', '/v1/events/'),
  ];
}
