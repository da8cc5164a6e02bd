// The documents management API, delegated by the gateway under /platform/v1/projects/:ref/documents:
//   GET /rules, GET|PUT|DELETE /rules/:collection       {read, insert, update, delete}
//   POST /rules/:collection/test                        {action, auth: {uid, role, jwt}, document?} → what the rules give that caller
//   POST|GET /credentials, DELETE /credentials/:username  wire-protocol logins → {username, password, uri} (shown once)
//   GET /wire                                           {host, port} of the MongoDB wire protocol listener
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { Credentials, WireAddress } from '../domain/credentials.js';
import type { RuleBook } from '../domain/rules.js';
import type { ControlDb } from '../db/control.js';
import { BasaltError } from '@basalt/errors';

const CollectionParam = z.object({ ref: z.string(), collection: z.string() });
const UserParam = z.object({ ref: z.string(), username: z.string() });
const IssueCredential = z.object({
  /** binds the login to the collection rules as this user (auth.uid); omitted: a service-role login */
  uid: z.string().min(1).max(200).optional(),
  /** further claims the rules may read as auth.jwt.<claim> */
  claims: z.record(z.unknown()).optional(),
}).strict();

export const manageRoutes = (rules: RuleBook, db: ControlDb, creds: Credentials, wire: WireAddress) => [
  defineRoute({ method: 'GET', url: '/rules', handler: async (req) => (await db.listRules(req.ref)).map((r) => ({ collection: r.collection, ...(r.rules as object), updated_at: r.updated_at })) }),
  defineRoute({
    method: 'GET', url: '/rules/:collection', schema: { params: CollectionParam },
    handler: async (req) => {
      const r = await db.getRules(req.ref, req.params.collection);
      if (!r) throw new BasaltError(404, 'rules_not_found', `collection "${req.params.collection}" has no rules (every action is denied)`);
      return { collection: req.params.collection, ...(r as object) };
    },
  }),
  defineRoute({ method: 'PUT', url: '/rules/:collection', schema: { params: CollectionParam }, handler: (req) => rules.put(req.ref, req.params.collection, req.body) }),
  defineRoute({ method: 'POST', url: '/rules/:collection/test', schema: { params: CollectionParam }, handler: (req) => rules.test(req.ref, req.params.collection, req.body) }),
  defineRoute({
    method: 'DELETE', url: '/rules/:collection', schema: { params: CollectionParam },
    handler: async (req, reply) => {
      await rules.remove(req.ref, req.params.collection);
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'POST', url: '/credentials', schema: { body: IssueCredential },
    handler: async (req, reply) => reply.code(201).send(await creds.issue(req.ref, req.body ?? {})),
  }),
  defineRoute({ method: 'GET', url: '/credentials', handler: (req) => creds.list(req.ref) }),
  defineRoute({
    method: 'DELETE', url: '/credentials/:username', schema: { params: UserParam },
    handler: async (req, reply) => {
      if (!(await creds.revoke(req.ref, req.params.username))) throw new BasaltError(404, 'credential_not_found', 'no such credential');
      return reply.code(204).send();
    },
  }),
  defineRoute({ method: 'GET', url: '/wire', handler: async () => ({ host: wire.host, port: wire.port(), tls: wire.tls ?? 'off' }) }),
];
