// Cron admin is for the project's owner: its service_role key, or a platform token with access to the project.
import type { RequestHandler } from 'express';
import type pg from 'pg';
import { authenticate, AuthError, canAccessProject, PLATFORM_TOKEN_PREFIX, requestToken, verifyPlatformToken, type ProjectRegistry } from '@basalt/tenancy';
import { cronErrors } from '../errors.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      ref: string;
    }
  }
}

export function requireProjectOwner(control: pg.Pool, registry: ProjectRegistry): RequestHandler {
  return async (req, _res, next) => {
    const ref = req.headers['x-basalt-ref'];
    if (typeof ref !== 'string') return next(cronErrors.projectNotFound());
    const token = requestToken(req.headers);
    if (token?.startsWith(PLATFORM_TOKEN_PREFIX)) {
      const principal = await verifyPlatformToken(control, token);
      if (!principal) return next(cronErrors.unauthorized());
      if (!canAccessProject(principal, ref)) return next(cronErrors.forbidden());
      if (!(await registry.get(ref))) return next(cronErrors.projectNotFound());
    } else {
      const project = await registry.get(ref);
      if (!project) return next(cronErrors.projectNotFound());
      try {
        if (authenticate(project, token).role !== 'service_role') return next(cronErrors.forbidden());
      } catch (e) {
        if (e instanceof AuthError) return next(cronErrors.unauthorized());
        throw e;
      }
    }
    req.ref = ref;
    next();
  };
}
