// /rest/v1/<table>: reads (GET/HEAD) and writes (POST/PATCH/DELETE/PUT) of tables and views; each request
// goes parse → plan → SQL → execute → respond (domain/handle.ts).
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { handle } from '../domain/handle.js';
import { parseRequest } from '../domain/parse.js';
import type { Limits } from '../domain/plan-read.js';
import { httpRequest, send } from './reply.js';

const TableParams = z.object({ table: z.string() });

export const tableRoutes = (limits: Limits) => [
  defineRoute({
    method: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT'], url: '/:table', schema: { params: TableParams },
    handler: async (req, reply) => send(req, reply, await handle(req.rest, parseRequest(httpRequest(req), { kind: 'table', name: req.params.table }), limits)),
  }),
];
