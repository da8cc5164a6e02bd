// redirect_to is honoured as GoTrue's IsRedirectURLValid decides (supabase/auth internal/utilities/request.go):
// back to the site (scheme and host equal; any port on a loopback host, RFC 8252 §7.3), a loopback IP literal,
// or a match of the project's allow list, whose entries are globs over the URL without its fragment (`*` stops at
// `.` and `/`, `**` does not). Control characters, decimal IPs and odd host names are refused; anything refused
// falls back to the site URL.
import type { AuthContext } from '../context.js';

export function siteUrl(ctx: AuthContext): string {
  return ctx.settings.site_url ?? ctx.baseUrl;
}

const DECIMAL_IP = /^[0-9]+$/;
const REGULAR_HOST = /^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;
// the authority's host as written (WHATWG URL would turn http://2130706433/ into 127.0.0.1)
const RAW_HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i;

const isLoopbackIp = (host: string) => /^127(\.\d{1,3}){3}$/.test(host) || host === '[::1]' || host === '::1';
const isLocalhost = (host: string) => host === 'localhost' || isLoopbackIp(host);

const globs = new Map<string, RegExp>();

/** A gobwas/glob pattern with separators `.` and `/`, as GoTrue compiles its URI allow list. */
export function globToRegExp(pattern: string): RegExp {
  const hit = globs.get(pattern);
  if (hit) return hit;
  let re = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += escape(pattern[++i]);
    else if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^./]*';
    else if (c === '?') re += '[^./]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = pattern.slice(i + 1, end);
        re += body.startsWith('!') ? `[^${body.slice(1).replace(/[\\\]^]/g, '\\$&')}]` : `[${body.replace(/[\\\]^]/g, '\\$&')}]`;
        i = end;
      }
    } else if (c === '{') {
      re += '(?:';
      depth++;
    } else if (c === '}' && depth > 0) {
      re += ')';
      depth--;
    } else if (c === ',' && depth > 0) re += '|';
    else re += escape(c);
  }
  let compiled: RegExp;
  try {
    compiled = new RegExp(`^${re}${')'.repeat(depth)}$`, 's');
  } catch {
    compiled = /(?!)/;
  }
  globs.set(pattern, compiled);
  return compiled;
}

const escape = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function isRedirectValid(site: string, allowList: string[], given: string): boolean {
  if (given === '' || [...given].some((ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f)) return false;
  let base: URL;
  try {
    base = new URL(site);
  } catch {
    return false;
  }
  let url: URL | null = null;
  try {
    url = new URL(given);
  } catch {
    if (/^https?:\/\//i.test(given)) return false;
  }
  if (url) {
    const rawHost = (RAW_HOST.exec(given)?.[1] ?? url.hostname).toLowerCase();
    if (url.username || url.password) return false;
    if (rawHost === base.hostname && url.protocol === base.protocol && (url.port === base.port || isLocalhost(rawHost))) return true;
    const http = url.protocol === 'http:' || url.protocol === 'https:';
    if (DECIMAL_IP.test(rawHost)) return false;
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(rawHost) || rawHost.startsWith('[')) return isLoopbackIp(rawHost);
    if (http && !REGULAR_HOST.test(rawHost)) return false;
  }
  const withoutFragment = given.split('#')[0];
  return allowList.some((p) => globToRegExp(p).test(withoutFragment));
}

export function redirectTarget(ctx: AuthContext, given: unknown): string {
  const site = siteUrl(ctx);
  if (typeof given !== 'string' || given.length > 2048) return site;
  return isRedirectValid(site, ctx.settings.uri_allow_list, given) ? given : site;
}
