// Metered usage (@basalt/metering) through the platform API:
//   GET /projects/:ref/usage?from&to&group_by=hour|day|service&format=json|csv&limit   one project (a token with access to it)
//   GET /usage?from&to&group_by&format&limit                                            every project (unscoped operator tokens)
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { defineRoute } from '@basalt/http';
import { UsageQuery, type UsageDomain } from '../domain/usage.js';
import { requireProjectAccess, requireUnscoped } from './auth.js';

const Ref = z.object({ ref: z.string() });

const respond = (reply: FastifyReply, r: { csv: string } | { json: unknown }, filename: string) =>
  'csv' in r ? reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}"`).send(r.csv) : r.json;

export const usageRoutes = (usage: UsageDomain) => [
  defineRoute({
    method: 'GET', url: '/projects/:ref/usage', schema: { params: Ref, querystring: UsageQuery }, preHandler: requireProjectAccess,
    handler: async (req, reply) => respond(reply, await usage.report(req.params.ref, req.query), `usage-${req.params.ref}.csv`),
  }),
  defineRoute({
    method: 'GET', url: '/usage', schema: { querystring: UsageQuery }, preHandler: requireUnscoped('(usage of every project)'),
    handler: async (req, reply) => respond(reply, await usage.report(null, req.query), 'usage.csv'),
  }),
];
