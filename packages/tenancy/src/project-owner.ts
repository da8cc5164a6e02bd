// Admin APIs of one project (cron, assets) are for its owner: the project's service_role key, or a platform
// token with access to the project. Anon keys and user tokens are refused.
import type { IncomingHttpHeaders } from 'node:http';
import type pg from 'pg';
import { authenticate, AuthError, requestToken } from './authenticate.js';
import { canAccessProject, PLATFORM_TOKEN_PREFIX, verifyPlatformToken } from './platform-tokens.js';
import type { Project, ProjectRegistry } from './registry.js';

export interface OwnerErrors {
  unauthorized: () => Error;
  forbidden: () => Error;
  projectNotFound: () => Error;
}

/** Express-style middleware: sets req.ref (and req.project) for the project named by the gateway's x-basalt-ref. */
export function requireProjectOwner(control: pg.Pool, registry: ProjectRegistry, errs: OwnerErrors) {
  return async (req: { headers: IncomingHttpHeaders; ref?: string; project?: Project }, _res: unknown, next: (e?: unknown) => void) => {
    try {
      const ref = req.headers['x-basalt-ref'];
      if (typeof ref !== 'string') return next(errs.projectNotFound());
      const token = requestToken(req.headers);
      if (token?.startsWith(PLATFORM_TOKEN_PREFIX)) {
        const principal = await verifyPlatformToken(control, token);
        if (!principal) return next(errs.unauthorized());
        if (!canAccessProject(principal, ref)) return next(errs.forbidden());
      }
      const project = await registry.get(ref);
      if (!project) return next(errs.projectNotFound());
      if (!token?.startsWith(PLATFORM_TOKEN_PREFIX)) {
        try {
          if (authenticate(project, token).role !== 'service_role') return next(errs.forbidden());
        } catch (e) {
          if (e instanceof AuthError) return next(errs.unauthorized());
          throw e;
        }
      }
      req.ref = ref;
      req.project = project;
      next();
    } catch (e) {
      next(e);
    }
  };
}
