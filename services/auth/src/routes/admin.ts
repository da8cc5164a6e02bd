// The admin API, service_role only (403 not_admin for anyone else); app.ts mounts it behind requireAdminHook.
//   GET    /admin/users?page=&per_page=        {users, aud} + X-Total-Count + Link
//   POST   /admin/users                        create
//   GET|PUT|DELETE /admin/users/:id            get, update, delete {should_soft_delete}
//   GET    /admin/users/:id/factors            factors
//   DELETE /admin/users/:id/factors/:factorId  remove a factor
//   POST   /admin/generate_link                links without sending mail
//   POST   /invite                             invite by email
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { createUser, deleteUser, getUserById, listUsers, updateUserById } from '../domain/admin.js';
import { generateLink, invite } from '../domain/email-flows.js';
import { deleteFactorAsAdmin } from '../domain/mfa.js';
import { requireAdmin } from '../domain/principal.js';
import { redirectTarget } from '../domain/redirect.js';
import { factorJson, userJson } from '../domain/user-json.js';
import type { RouteDeps } from './deps.js';
import { Body, Id, Query } from './schemas.js';

/** onRequest, after resolveProject: the bearer must be the project's service_role (headers only). */
export const requireAdminHook = async (req: FastifyRequest) => requireAdmin(req.ctx, req.headers);

const FactorOfUser = z.object({ id: z.string(), factorId: z.string() });

export const adminRoutes = ({ pw }: RouteDeps) => [
  defineRoute({
    method: 'GET', url: '/admin/users', schema: { querystring: Query },
    handler: async (req, reply) => {
      const { page, perPage, total, users } = await listUsers(req.ctx, req.query.page, req.query.per_page);
      const last = Math.max(1, Math.ceil(total / perPage));
      // auth-js reads the page number right after the first '=' of each link: page= must come first.
      const link = (n: number, rel: string) => `<${req.ctx.authUrl}/admin/users?page=${n}&per_page=${perPage}>; rel="${rel}"`;
      const links = [...(page < last ? [link(page + 1, 'next')] : []), link(last, 'last')];
      reply.header('x-total-count', String(total)).header('link', links.join(', '));
      return { users, aud: 'authenticated' };
    },
  }),
  defineRoute({ method: 'POST', url: '/admin/users', schema: { body: Body }, handler: (req) => createUser(req.ctx, pw, req.body) }),
  defineRoute({
    method: 'GET', url: '/admin/users/:id', schema: { params: Id },
    handler: async (req) => userJson(await getUserById(req.ctx, req.params.id)),
  }),
  defineRoute({
    method: 'PUT', url: '/admin/users/:id', schema: { params: Id, body: Body },
    handler: (req) => updateUserById(req.ctx, pw, req.params.id, req.body),
  }),
  defineRoute({
    method: 'DELETE', url: '/admin/users/:id', schema: { params: Id, body: Body },
    handler: async (req) => {
      await deleteUser(req.ctx, req.params.id, req.body.should_soft_delete === true);
      return {};
    },
  }),
  defineRoute({
    method: 'GET', url: '/admin/users/:id/factors', schema: { params: Id },
    handler: async (req) => (await getUserById(req.ctx, req.params.id)).factors.map(factorJson),
  }),
  defineRoute({
    method: 'DELETE', url: '/admin/users/:id/factors/:factorId', schema: { params: FactorOfUser },
    handler: (req) => deleteFactorAsAdmin(req.ctx, req.params.id, req.params.factorId),
  }),
  defineRoute({
    method: 'POST', url: '/admin/generate_link', schema: { body: Body, querystring: Query },
    handler: (req) => generateLink(req.ctx, pw, req.body, redirectTarget(req.ctx, req.body.redirect_to ?? req.query.redirect_to)),
  }),
  defineRoute({
    method: 'POST', url: '/invite', schema: { body: Body, querystring: Query },
    handler: (req) => invite(req.ctx, req.body, redirectTarget(req.ctx, req.query.redirect_to)),
  }),
];
