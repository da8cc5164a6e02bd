// /platform/v1/projects/:ref/custom-domains: claim a domain, prove ownership, list, remove.
//   GET    /projects/:ref/custom-domains                   claims: pending ones with their challenge, active ones
//   POST   /projects/:ref/custom-domains {domain}          201 a pending claim (200: the project's existing one)
//   POST   /projects/:ref/custom-domains/:domain/verify    checks the TXT record or HTTP file now; active or 400/409
//   DELETE /projects/:ref/custom-domains/:domain           204; an active domain stops routing
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import type { CustomDomainsDomain } from '../domain/custom-domains.js';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const Ref = z.object({ ref: z.string() });
const RefDomain = z.object({ ref: z.string(), domain: z.string().transform((d) => d.toLowerCase()) });
const Claim = z.object({ domain: z.string().trim().toLowerCase().regex(HOSTNAME, 'not a domain name') }).strict();

export const customDomainRoutes = (domains: CustomDomainsDomain) => [
  defineRoute({ method: 'GET', url: '/projects/:ref/custom-domains', schema: { params: Ref }, handler: (req) => domains.list(req.params.ref) }),
  defineRoute({
    method: 'POST', url: '/projects/:ref/custom-domains', schema: { params: Ref, body: Claim },
    handler: async (req, reply) => {
      const { created, view } = await domains.claim(req.params.ref, req.body.domain);
      return reply.code(created ? 201 : 200).send(view);
    },
  }),
  defineRoute({
    method: 'POST', url: '/projects/:ref/custom-domains/:domain/verify', schema: { params: RefDomain },
    handler: (req) => domains.verify(req.params.ref, req.params.domain),
  }),
  defineRoute({
    method: 'DELETE', url: '/projects/:ref/custom-domains/:domain', schema: { params: RefDomain },
    handler: async (req, reply) => {
      await domains.remove(req.params.ref, req.params.domain);
      return reply.code(204).send();
    },
  }),
];
