// GET /rest/v1/: the OpenAPI (Swagger 2.0) description PostgREST serves, built from the schema cache.
import { defineRoute, projectBaseUrl } from '@basalt/http';
import type { RestContext } from '../context.js';
import { negotiate } from '../domain/parse.js';
import { contentType } from '../domain/respond.js';
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

export const openApiRoutes = (publicUrl: string) => [
  defineRoute({
    method: ['GET', 'HEAD'], url: '/',
    handler: async (req, reply) => reply.type(contentType(negotiate(req.headers.accept, true))).send(JSON.stringify(await document(req.rest, req.headers, publicUrl))),
  }),
];

/** The document names the project's public URL (as the gateway saw it), never the service's own address. */
async function document(rest: RestContext, headers: Record<string, string | string[] | undefined>, publicUrl: string) {
  const base = new URL(projectBaseUrl(headers, publicUrl, rest.project.ref));
  const index = await rest.index();
  const tables = [...index.tables.values()].filter((t) => t.schema === rest.schema).sort((a, b) => a.name.localeCompare(b.name));
  const fns = [...index.functions.values()].flat().filter((f) => f.schema === rest.schema);
  return {
    swagger: '2.0',
    info: { title: 'Basalt REST API', description: 'PostgREST-compatible API over the project database', version: '12.2.0' },
    host: base.host,
    basePath: `${base.pathname.replace(/\/$/, '')}/rest/v1`,
    schemes: [base.protocol.slice(0, -1)],
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
}
