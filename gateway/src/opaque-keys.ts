// Supabase's opaque API keys: sb_publishable_… (the anon role) and sb_secret_… (service_role). They are not JWTs,
// so the gateway checks them against the project's keys and forwards the project's own JWT of that role in their
// place (apikey header, ?apikey= and an Authorization bearer that carries the same key, or none): services never
// see them.
// A secret key is refused from a browser, as Supabase refuses it.
import type { IncomingMessage } from 'node:http';
import { hashToken } from '@basalt/crypto';
import type { Project } from '@basalt/tenancy';

export const isOpaqueKey = (key: string) => key.startsWith('sb_publishable_') || key.startsWith('sb_secret_');

export class OpaqueKeyError extends Error {}

/** A browser announces itself with a Mozilla/… user agent; server-side clients (node, curl, Deno) do not. */
const fromBrowser = (req: IncomingMessage) => /^Mozilla\//.test(req.headers['user-agent'] ?? '');

/** The JWT an opaque key stands for; throws OpaqueKeyError when the project has no such key or it may not be used here. */
export function jwtForOpaqueKey(project: Project, key: string, req: IncomingMessage): string {
  const type = project.apiKeys.get(hashToken(key));
  if (!type) throw new OpaqueKeyError('Invalid authentication credentials');
  if (type === 'secret' && fromBrowser(req)) throw new OpaqueKeyError('Forbidden use of secret API key in browser');
  return type === 'secret' ? project.serviceKey : project.anonKey;
}

export interface Swap {
  /** headers to forward in place of the client's */
  headers: Record<string, string>;
  /** the forwarded path, with an opaque ?apikey= replaced */
  path: string;
}

/** Every place a request may carry an opaque key, swapped for its JWT; null when it carries none. */
export function swapOpaqueKeys(project: Project, req: IncomingMessage, path: string): Swap | null {
  const apikey = req.headers.apikey;
  const auth = req.headers.authorization;
  // the common case, a JWT or no key: nothing to swap, nothing allocated
  if (!(typeof apikey === 'string' && isOpaqueKey(apikey)) && !(typeof auth === 'string' && auth.includes('sb_')) && !path.includes('apikey=sb_')) return null;
  const headers: Record<string, string> = {};
  if (typeof apikey === 'string' && isOpaqueKey(apikey)) headers.apikey = jwtForOpaqueKey(project, apikey, req);
  const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : null;
  if (bearer && isOpaqueKey(bearer)) headers.authorization = `Bearer ${jwtForOpaqueKey(project, bearer, req)}`;
  // supabase-js sends no bearer with a new-format key to Edge Functions: the key's JWT stands in, so verify_jwt
  // sees the role the key grants, as it would have seen the legacy anon key
  else if (auth === undefined && headers.apikey) headers.authorization = `Bearer ${headers.apikey}`;
  let out = path;
  const qi = path.indexOf('?');
  if (qi >= 0 && path.includes('apikey=sb_')) {
    const q = new URLSearchParams(path.slice(qi + 1));
    const key = q.get('apikey');
    if (key && isOpaqueKey(key)) {
      q.set('apikey', jwtForOpaqueKey(project, key, req));
      out = `${path.slice(0, qi)}?${q}`;
    }
  }
  return Object.keys(headers).length > 0 || out !== path ? { headers, path: out } : null;
}
