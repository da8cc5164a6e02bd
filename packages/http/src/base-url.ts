// The public URL of the project a request is for, for links a service hands out (verify emails, Location
// headers, asset URLs): what the gateway saw (x-basalt-base-url: subdomain, path prefix or custom domain), else
// the path-style URL under the platform's public URL (a request that did not come through the gateway).
import type { IncomingHttpHeaders } from 'node:http';

export function projectBaseUrl(headers: IncomingHttpHeaders, publicUrl: string, ref: string): string {
  const given = headers['x-basalt-base-url'];
  const base = typeof given === 'string' && /^https?:\/\//.test(given) ? given : `${publicUrl.replace(/\/$/, '')}/project/${ref}`;
  return base.replace(/\/$/, '');
}
