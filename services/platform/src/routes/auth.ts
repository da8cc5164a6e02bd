// Platform-token authentication for every /platform/v1 route, and the per-project scope check.
import type { RequestHandler } from 'express';
import type pg from 'pg';
import { canAccessProject, requestToken, verifyPlatformToken, type PlatformPrincipal } from '@basalt/tenancy';
import { platformErrors } from '../errors.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      platform: PlatformPrincipal;
    }
  }
}

export function requirePlatformToken(control: pg.Pool): RequestHandler {
  return async (req, _res, next) => {
    const principal = await verifyPlatformToken(control, requestToken(req.headers));
    if (!principal) return next(platformErrors.unauthorized());
    req.platform = principal;
    next();
  };
}

export const requireProjectAccess: RequestHandler = (req, _res, next) => {
  const ref = String(req.params.ref);
  next(canAccessProject(req.platform, ref) ? undefined : platformErrors.forbiddenProject(ref));
};
