// Which project a request is for (the gateway's x-basalt-ref) and who is calling (a JWT signed by that project).
import type { IncomingHttpHeaders } from 'node:http';
import { AuthError, authenticate, requestToken, type Project, type ProjectRegistry } from '@basalt/tenancy';
import { storageErrors } from '../errors.js';
import type { Actor } from '../db/tx.js';

export async function projectOf(headers: IncomingHttpHeaders, registry: ProjectRegistry): Promise<Project> {
  const ref = headers['x-basalt-ref'];
  const project = typeof ref === 'string' ? await registry.get(ref) : null;
  if (!project) throw storageErrors.tenantNotFound();
  return project;
}

/** The caller as a database actor; storage refuses a request without a token (anon key included). */
export function callerOf(project: Project, headers: IncomingHttpHeaders): Actor & { sub?: string } {
  const token = requestToken(headers);
  if (!token) throw storageErrors.missingAuth();
  try {
    const p = authenticate(project, token);
    return { role: p.role, claims: p.claims, sub: typeof p.claims.sub === 'string' ? p.claims.sub : undefined };
  } catch (e) {
    if (e instanceof AuthError) throw storageErrors.accessDenied(joseMessage(e));
    throw e;
  }
}

/** Storage verifies with jose and answers AccessDenied with jose's own words. */
function joseMessage(e: AuthError): string {
  if (e.reason === 'expired') return '"exp" claim timestamp check failed';
  if (e.message === 'token is not a JWT') return 'Invalid Compact JWS';
  if (e.message === 'invalid JWT signature') return 'signature verification failed';
  if (e.message === 'JWT not yet valid') return '"nbf" claim timestamp check failed';
  return e.message;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Supabase's two owner columns for a row the caller writes: `owner` (uuid, deprecated) and `owner_id` (text). */
export const ownerColumns = (sub: string | undefined): [string | null, string | null] => [sub && UUID.test(sub) ? sub : null, sub ?? null];
