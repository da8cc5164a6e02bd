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

/**
 * The project named by the gateway's x-basalt-ref, when the caller owns it; throws one of `errs` otherwise.
 * Framework-free: services call it from an onRequest hook, before any body is read.
 */
export async function authorizeProjectOwner(
  control: pg.Pool, registry: ProjectRegistry, errs: OwnerErrors, headers: IncomingHttpHeaders,
  /** the project asked for: the gateway's x-basalt-ref unless the path names it (delegated platform paths) */
  ref: unknown = headers['x-basalt-ref'],
): Promise<{ ref: string; project: Project }> {
  if (typeof ref !== 'string') throw errs.projectNotFound();
  const token = requestToken(headers);
  const platform = token?.startsWith(PLATFORM_TOKEN_PREFIX);
  if (platform) {
    const principal = await verifyPlatformToken(control, token);
    if (!principal) throw errs.unauthorized();
    if (!canAccessProject(principal, ref)) throw errs.forbidden();
  }
  const project = await registry.get(ref);
  if (!project) throw errs.projectNotFound();
  if (!platform) {
    let role: string;
    try {
      role = authenticate(project, token).role;
    } catch (e) {
      if (e instanceof AuthError) throw errs.unauthorized();
      throw e;
    }
    if (role !== 'service_role') throw errs.forbidden();
  }
  return { ref, project };
}
