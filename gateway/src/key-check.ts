// Key verification with a small cache: the same anon/service keys and session tokens arrive on every request,
// and an HMAC plus two JSON parses per request is most of the gateway's own CPU. The cache hangs off the
// Project object, which the registry replaces when keys rotate, so a rotated key is never served from it.
import { verifyJwt } from '@basalt/jwt';
import type { Project } from '@basalt/tenancy';

const MAX_PER_PROJECT = 1_000;
const verified = new WeakMap<Project, Map<string, number>>();

/** true when the token is signed by the project, unexpired and not bound to another project. */
export function keyIsValid(project: Project, token: string): boolean {
  let cache = verified.get(project);
  const now = Date.now() / 1000;
  const exp = cache?.get(token);
  if (exp !== undefined && exp > now) return true;
  try {
    const claims = verifyJwt(token, project.jwtKey);
    if (claims.ref !== undefined && claims.ref !== project.ref) return false;
    if (!cache) verified.set(project, (cache = new Map()));
    if (cache.size >= MAX_PER_PROJECT) cache.delete(cache.keys().next().value as string);
    cache.set(token, typeof claims.exp === 'number' ? claims.exp : now + 300);
    return true;
  } catch {
    return false;
  }
}
