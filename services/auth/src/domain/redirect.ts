// redirect_to must match the project's site URL origin or an entry of its allow list; anything else falls
// back to the site URL (GoTrue's rule; prefix matches respect path boundaries: /docs never allows /docss).
import type { AuthContext } from '../context.js';

function matches(url: URL, pattern: string): boolean {
  if (pattern.endsWith('**')) {
    const base = pattern.slice(0, -2);
    return url.toString().startsWith(base) && (base.endsWith('/') || base.endsWith('?') || url.toString().length === base.length);
  }
  if (pattern.endsWith('*')) return url.toString().startsWith(pattern.slice(0, -1)) && !url.pathname.slice(new URL(pattern.slice(0, -1)).pathname.length).includes('/');
  try {
    const p = new URL(pattern);
    return url.origin === p.origin && (url.pathname === p.pathname || url.pathname.startsWith(p.pathname.endsWith('/') ? p.pathname : `${p.pathname}/`));
  } catch {
    return false;
  }
}

export function siteUrl(ctx: AuthContext): string {
  return ctx.settings.site_url ?? ctx.baseUrl;
}

export function redirectTarget(ctx: AuthContext, given: unknown): string {
  const site = siteUrl(ctx);
  if (typeof given !== 'string' || given.length === 0 || given.length > 2048) return site;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return site;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && !ctx.settings.uri_allow_list.some((p) => given.startsWith(p))) return site;
  if (url.username || url.password) return site;
  if (url.origin === new URL(site).origin) return url.toString();
  return ctx.settings.uri_allow_list.some((p) => matches(url, p)) ? url.toString() : site;
}
