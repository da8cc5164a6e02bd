// /platform/v1/projects/:ref/config/auth/signing-keys, in the shape of Supabase's Management API.
//   GET    …/signing-keys                 {keys: [{id, algorithm, status, public_jwk, created_at, updated_at}]}
//   POST   …/signing-keys {algorithm, status?}   201 the new key (standby unless status is in_use)
//   GET    …/signing-keys/:id             the key
//   PATCH  …/signing-keys/:id {status}    in_use | standby | revoked (see the domain for the moves allowed)
//   DELETE …/signing-keys/:id             a revoked key; answers it
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { SigningKeysDomain } from '../domain/signing-keys.js';

const Ref = z.object({ ref: z.string() });
const RefId = z.object({ ref: z.string(), id: z.string() });
// the algorithms auth-js getClaims() verifies locally
const Create = z.object({ algorithm: z.enum(['ES256', 'RS256']), status: z.enum(['in_use', 'standby']).optional() }).strict();
const Patch = z.object({ status: z.enum(['in_use', 'standby', 'previously_used', 'revoked']) }).strict();
const BASE = '/projects/:ref/config/auth/signing-keys';

export const signingKeyRoutes = (keys: SigningKeysDomain) => [
  defineRoute({ method: 'GET', url: BASE, schema: { params: Ref }, handler: (req) => keys.list(req.params.ref) }),
  defineRoute({
    method: 'POST', url: BASE, schema: { params: Ref, body: Create },
    handler: async (req, reply) => reply.code(201).send(await keys.create(req.params.ref, req.body)),
  }),
  defineRoute({ method: 'GET', url: `${BASE}/:id`, schema: { params: RefId }, handler: (req) => keys.get(req.params.ref, req.params.id) }),
  defineRoute({ method: 'PATCH', url: `${BASE}/:id`, schema: { params: RefId, body: Patch }, handler: (req) => keys.setStatus(req.params.ref, req.params.id, req.body.status) }),
  defineRoute({ method: 'DELETE', url: `${BASE}/:id`, schema: { params: RefId }, handler: (req) => keys.remove(req.params.ref, req.params.id) }),
];
