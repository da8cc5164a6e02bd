// /rest/v1/rpc/<fn> by GET (arguments in the query string, read-only) and POST (JSON body; read-write only for
// VOLATILE functions), with select/filters/order/paging on functions that return rows; other methods are 405.
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { restErrors } from '../errors.js';
import { handle } from '../domain/handle.js';
import { parseRequest } from '../domain/parse.js';
import type { Limits } from '../domain/plan-read.js';
import { httpRequest, send } from './reply.js';

const FnParams = z.object({ fn: z.string() });

export const rpcRoutes = (limits: Limits) => [
  defineRoute({
    method: ['GET', 'HEAD', 'POST'], url: '/rpc/:fn', schema: { params: FnParams },
    handler: async (req, reply) => send(req, reply, await handle(req.rest, parseRequest(httpRequest(req), { kind: 'rpc', name: req.params.fn }), limits)),
  }),
  defineRoute({
    method: ['PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: '/rpc/:fn',
    handler: (req) => {
      throw restErrors.rpcMethod(req.method);
    },
  }),
];
