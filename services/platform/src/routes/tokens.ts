// /platform/v1/tokens: issue, list, revoke platform tokens (for unscoped tokens only: see app.ts).
//   POST   /tokens        {name, projects?, expires_in_days?} → 201 {id, name, token, …} (the only time the token is shown)
//   GET    /tokens
//   DELETE /tokens/:id
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { TokensDomain } from '../domain/tokens.js';

const IssueToken = z
  .object({
    name: z.string().trim().min(1).max(128),
    projects: z.array(z.string().regex(/^[a-z]{20}$/)).max(1000).optional(),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
const TokenId = z.object({ id: z.string() });

export const tokenRoutes = (tokens: TokensDomain) => [
  defineRoute({
    method: 'POST', url: '/tokens', schema: { body: IssueToken },
    handler: async (req, reply) =>
      reply.code(201).send(await tokens.issue({ name: req.body.name, projectRefs: req.body.projects, expiresInDays: req.body.expires_in_days })),
  }),
  defineRoute({ method: 'GET', url: '/tokens', handler: () => tokens.list() }),
  defineRoute({
    method: 'DELETE', url: '/tokens/:id', schema: { params: TokenId },
    handler: async (req, reply) => {
      await tokens.revoke(req.params.id);
      return reply.code(204).send();
    },
  }),
];
