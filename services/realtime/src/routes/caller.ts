// Who calls the REST API: the project (named by the gateway, else by the key's ref claim) and the principal
// of the bearer token (else the apikey), verified with the project's secret.
import type { FastifyRequest } from 'fastify';
import { requestToken, type Principal, type Project, type ProjectRegistry } from '@basalt/tenancy';
import { rtErrors } from '../errors.js';
import { checkToken, claimedRef } from '../domain/auth.js';

export interface Callers {
  registry: ProjectRegistry;
}

declare module 'fastify' {
  interface FastifyRequest {
    rt?: { project: Project; principal: Principal };
  }
}

export async function callerOf(c: Callers, req: FastifyRequest): Promise<{ project: Project; principal: Principal }> {
  if (req.rt) return req.rt;
  const token = requestToken(req.headers);
  const apikey = typeof req.headers.apikey === 'string' ? req.headers.apikey : null;
  const given = req.headers['x-basalt-ref'];
  const ref = typeof given === 'string' && given ? given : claimedRef(apikey) ?? claimedRef(token);
  const project = ref ? await c.registry.get(ref) : null;
  if (!project) throw rtErrors.tenantNotFound();
  const check = checkToken(project, token);
  if (!check.ok) throw check.why === 'missing' ? rtErrors.apiKeyMissing() : check.why === 'expired' ? rtErrors.tokenExpired() : rtErrors.notJwt();
  req.rt = { project, principal: check.principal };
  return req.rt;
}
