// Platform-token authentication for every /platform/v1 route, and the scope checks: a project's routes need a
// token with access to it, and minting projects or tokens needs an unscoped one. Hooks run on onRequest,
// so a refused caller is answered before its body is read.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { canAccessProject, requestToken, verifyPlatformToken, type PlatformPrincipal } from '@basalt/tenancy';
import { platformErrors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the platform token's holder, set by requirePlatformToken */
    platform: PlatformPrincipal;
  }
}

export const requirePlatformToken = (control: pg.Pool) => async (req: FastifyRequest) => {
  const principal = await verifyPlatformToken(control, requestToken(req.headers));
  if (!principal) throw platformErrors.unauthorized();
  req.platform = principal;
};

/** For routes under /projects/:ref. */
export const requireProjectAccess = async (req: FastifyRequest) => {
  const ref = String((req.params as { ref?: string }).ref);
  if (!canAccessProject(req.platform, ref)) throw platformErrors.forbiddenProject(ref);
};

/** A scoped token cannot create projects or mint tokens: that would let it widen its own scope. */
export const requireUnscoped = (what: string) => async (req: FastifyRequest) => {
  if (req.platform.projectRefs !== null) throw platformErrors.forbiddenProject(what);
};
