// Which project a request is for: the subdomain <ref>.<domain>, a /project/<ref>/ path prefix,
// a custom domain, or else the `ref` claim of the apikey / bearer token (read unverified, only to pick the key), or
// the project an opaque API key is recorded for.
import type { IncomingMessage } from 'node:http';
import { decodeUnverified } from '@basalt/jwt';
import type { ProjectRegistry } from '@basalt/tenancy';
import { isOpaqueKey } from './opaque-keys.js';

const REF = /^[a-z]{20}$/;
const PREFIX = /^\/project\/([a-z]{20})(?=\/|$)/;

export interface Located {
  ref: string | null;
  via: 'subdomain' | 'path' | 'domain' | 'token' | null;
  /** path with any /project/<ref> prefix removed */
  path: string;
}

export function hostName(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  const colon = host.indexOf(':');
  return (colon < 0 ? host : host.slice(0, colon)).toLowerCase();
}

export function tokenFrom(req: IncomingMessage, query: URLSearchParams | null): string | null {
  const apikey = req.headers.apikey;
  if (typeof apikey === 'string' && apikey) return apikey;
  const q = query?.get('apikey');
  if (q) return q;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return null;
}

/** `host`: hostName(req), when the caller has it already */
export function locateSync(req: IncomingMessage, path: string, domain: string, host = hostName(req)): Located {
  if (host.length > domain.length + 1 && host.endsWith(domain) && host[host.length - domain.length - 1] === '.') {
    const label = host.slice(0, -(domain.length + 1));
    if (REF.test(label)) return { ref: label, via: 'subdomain', path };
  }
  const m = PREFIX.exec(path);
  if (m) return { ref: m[1], via: 'path', path: path.slice(m[0].length) || '/' };
  return { ref: null, via: null, path };
}

/** Basalt's own host names; any other host may be a project's custom domain. */
export const isBaseHost = (host: string, domain: string) =>
  host === domain || host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host.endsWith(`.${domain}`);

/** Custom domains and token claims, when neither the host nor the path named the project. */
export async function locateSlow(
  req: IncomingMessage, located: Located, domain: string, registry: ProjectRegistry, query: URLSearchParams | null,
): Promise<Located> {
  const host = hostName(req);
  if (!isBaseHost(host, domain) && host) {
    const ref = await registry.refForDomain(host);
    if (ref) return { ...located, ref, via: 'domain' };
  }
  const token = tokenFrom(req, query);
  // an opaque key (sb_publishable_…, sb_secret_…) names its project only through the control plane's record of it
  if (token && isOpaqueKey(token)) {
    const owner = await registry.refForApiKey(token);
    return owner ? { ...located, ref: owner, via: 'token' } : located;
  }
  const ref = token ? decodeUnverified(token)?.ref : undefined;
  if (typeof ref === 'string' && REF.test(ref)) return { ...located, ref, via: 'token' };
  return located;
}
