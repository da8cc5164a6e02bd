// GET /rest/v1/: the OpenAPI (Swagger 2.0) description PostgREST serves, built from the schema cache.
import { Router } from 'express';
import { contentType, negotiate } from '../domain/respond.js';
import type { Table } from '../domain/schema.js';

const JSON_TYPE: Record<string, string> = { int2: 'integer', int4: 'integer', int8: 'integer', float4: 'number', float8: 'number', numeric: 'number', bool: 'boolean', json: 'object', jsonb: 'object' };

function definition(t: Table) {
  return {
    type: 'object',
    ...(t.comment ? { description: t.comment } : {}),
    required: [...t.columns.values()].filter((c) => !c.nullable && !c.hasDefault).map((c) => c.name),
    properties: Object.fromEntries([...t.columns.values()].map((c) => [c.name, {
      type: c.udt.startsWith('_') ? 'array' : JSON_TYPE[c.udt] ?? 'string',
      format: c.type,
      ...(t.pk.includes(c.name) ? { description: 'Note:\nThis is a Primary Key.<pk/>' } : {}),
    }])),
  };
}

export function openApiRoute() {
  const router = Router();
  router.get('/', async (req, res) => {
    const media = negotiate(req.headers.accept, true);
    const index = await req.rest.index();
    const tables = [...index.tables.values()].filter((t) => t.schema === req.rest.schema).sort((a, b) => a.name.localeCompare(b.name));
    const fns = [...index.functions.values()].flat().filter((f) => f.schema === req.rest.schema);
    const doc = {
      swagger: '2.0',
      info: { title: 'Basalt REST API', description: 'PostgREST-compatible API over the project database', version: '12.2.0' },
      host: req.headers.host ?? 'localhost',
      basePath: '/rest/v1',
      schemes: ['http', 'https'],
      consumes: ['application/json', 'application/vnd.pgrst.object+json', 'text/csv'],
      produces: ['application/json', 'application/vnd.pgrst.object+json', 'text/csv'],
      paths: {
        '/': { get: { tags: ['Introspection'], summary: 'OpenAPI description (this document)', produces: ['application/openapi+json', 'application/json'], responses: { 200: { description: 'OK' } } } },
        ...Object.fromEntries(tables.map((t) => [`/${t.name}`, {
          get: { tags: [t.name], ...(t.comment ? { summary: t.comment } : {}), responses: { 200: { description: 'OK', schema: { type: 'array', items: { $ref: `#/definitions/${t.name}` } } }, 206: { description: 'Partial Content' } } },
          ...(t.kind === 'r' || t.kind === 'p' || t.kind === 'v' ? {
            post: { tags: [t.name], responses: { 201: { description: 'Created' } } },
            patch: { tags: [t.name], responses: { 204: { description: 'No Content' } } },
            delete: { tags: [t.name], responses: { 204: { description: 'No Content' } } },
          } : {}),
        }])),
        ...Object.fromEntries(fns.map((f) => [`/rpc/${f.name}`, {
          post: { tags: ['(rpc) ' + f.name], parameters: [{ in: 'body', name: 'args', required: true, schema: { type: 'object', properties: Object.fromEntries(f.args.filter((a) => a.mode === 'i' || a.mode === 'b').map((a) => [a.name, { format: a.type, type: JSON_TYPE[a.type] ?? 'string' }])) } }], responses: { 200: { description: 'OK' } } },
        }])),
      },
      definitions: Object.fromEntries(tables.map((t) => [t.name, definition(t)])),
    };
    res.setHeader('content-type', contentType(media));
    res.end(JSON.stringify(doc));
  });
  return router;
}
